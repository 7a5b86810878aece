"""Configuration of the distributed roles (the ``cluster:`` block): the bus between ``canhgac collect`` and
``canhgac worker``, and the partition leases workers hold (docs/decisions/0039, 0047). Without ``cluster.bus``
Canh Gác runs as one process (``canhgac serve``)."""

from __future__ import annotations

from typing import Annotated, Literal

from canhgac.core.config_base import StrictModel
from pydantic import Field, model_validator

#: A worker's name in the partition leases (a key of the JetStream KV bucket).
WORKER_ID_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
NatsUrl = Annotated[str, Field(pattern=r"^(nats|tls)://[^\s/]+:\d{1,5}$", description="nats://host:port")]


class BusSettings(StrictModel):
    """The replicated stream collectors publish raw line batches to, partitioned by agency."""

    kind: Literal["jetstream"] = "jetstream"
    servers: Annotated[list[NatsUrl], Field(min_length=1, description="NATS servers of one cluster")]
    stream: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,62}$")] = "CANHGAC_RAW"
    subject_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")] = "canhgac.raw"
    partitions: Annotated[int, Field(ge=1, le=1024, description="fixed for the life of the stream")] = 16
    replicas: Annotated[int, Field(ge=1, le=5)] = 3
    group: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$", description="the workers' consumer group")] = \
        "workers"
    batch_lines: Annotated[int, Field(ge=1, le=10_000, description="lines per published batch at most")] = 500
    publish_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    retention_hours: Annotated[float, Field(ge=1, le=24 * 90, description=(
        "how long the stream keeps batches; workers must read them within it (each NATS node holds this much)"))] = \
        168.0
    compression: Annotated[Literal["s2", "none"], Field(description=(
        "how NATS stores the stream on disk: s2 keeps portal access logs in about a fifth of the space"))] = "s2"


class LeaseSettings(StrictModel):
    """Who owns which partition: one key per partition in a JetStream key-value bucket, with a time to live."""

    bucket: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")] = "canhgac_leases"
    ttl_seconds: Annotated[float, Field(ge=1, le=300, description="a dead worker's partitions are free after")] = 10.0
    renew_seconds: Annotated[float, Field(gt=0, le=100)] = 3.0
    settle_seconds: Annotated[float, Field(gt=0, le=60, description=(
        "the longest a worker keeps processed batches unacknowledged; correlation state is saved then"))] = 5.0

    @model_validator(mode="after")
    def _renewed_in_time(self) -> LeaseSettings:
        if self.renew_seconds * 2 > self.ttl_seconds:
            raise ValueError(f"renew_seconds ({self.renew_seconds}) must be at most half of ttl_seconds "
                             f"({self.ttl_seconds}), or a lease can lapse between two renewals")
        return self


class MetricsSettings(StrictModel):
    """Prometheus metrics (docs/decisions/0049): ``collect`` and ``worker`` serve them on ``host:port`` when a
    port is set (or ``--metrics-port``); ``serve`` answers ``GET /metrics`` beside the API."""

    host: Annotated[str, Field(min_length=1, description=(
        "address the roles' metrics listen on; the default keeps them on this machine"))] = "127.0.0.1"
    port: Annotated[int | None, Field(ge=1, le=65535, description="collect/worker metrics port; none: not served")] = \
        None
    token_env: Annotated[str | None, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description=(
        "environment variable holding a bearer token that serve's GET /metrics then requires"))] = None


class ClusterSettings(StrictModel):
    bus: BusSettings | None = None
    leases: LeaseSettings = LeaseSettings()
    metrics: MetricsSettings = MetricsSettings()
    worker_id: Annotated[str | None, Field(pattern=WORKER_ID_PATTERN, description=(
        "this worker's name in the leases; default: host name and process id"))] = None
