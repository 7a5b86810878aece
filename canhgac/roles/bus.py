"""Opening the configured bus, waiting a little for a cluster that is still electing its leaders."""

from __future__ import annotations

import time

from canhgac.collectors.bus.jetstream import JetStreamBus, JetStreamSettings
from canhgac.core.config import Settings
from canhgac.core.errors import CanhGacError


class NoBus(CanhGacError):
    """The configuration has no ``cluster.bus``, or the bus cannot be reached."""


def open_bus(settings: Settings, *, wait_seconds: float = 30.0) -> JetStreamBus:
    config = settings.cluster.bus
    if config is None:
        raise NoBus("cluster.bus is not configured: collect and worker need a NATS JetStream bus "
                    "(see docs/decisions/0047-roles-and-partition-leases.md)")
    jetstream = JetStreamSettings(servers=tuple(config.servers), stream=config.stream,
                                  subject_prefix=config.subject_prefix, partitions=config.partitions,
                                  replicas=config.replicas, publish_timeout=config.publish_timeout,
                                  max_age=config.retention_hours * 3600.0, compression=config.compression)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return JetStreamBus(jetstream)
        except Exception as exc:  # no server up yet, or no JetStream leader elected yet
            if time.monotonic() >= deadline:
                raise NoBus(f"NATS JetStream at {', '.join(config.servers)} unreachable: {exc!r}") from exc
            time.sleep(0.5)
