"""What one owned partition runs on: its own view of the saved state, its fenced detection, and
the decoders of the sources its batches come from (docs/decisions/0047)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from canhgac.collectors.bus.base import LineBatch, Received
from canhgac.collectors.bus.foreign import ForeignDecoder, is_foreign
from canhgac.collectors.bus.publishing import parse_syslog_source_id
from canhgac.collectors.bus.push import PUSH_PREFIX, PushDecoder, parse_push_source_id
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers.syslog import SyslogParser
from canhgac.collectors.service import Collection
from canhgac.core.config import FileLogSource
from canhgac.core.config_detection import DetectionSettings
from canhgac.core.errors import CanhGacError
from canhgac.core.model import DeadLetter, Event, event_id, utcnow
from canhgac.detectors.engine import DetectionEngine
from canhgac.storage.base import Store


class LeaseLapsed(CanhGacError):
    """This worker's lease on the partition may have expired: another worker may own it now."""


class PartitionState:
    """A store view that keeps one partition's saved state (correlation windows, parser state) apart from the
    others'; ``fence()`` says whether the lease still holds."""

    def __init__(self, store: Store, partition: int, fence: Callable[[], bool] = lambda: True) -> None:
        self._store = store
        self.partition = partition
        self.fence = fence
        self.prefix = f"partition:{partition}:"

    def get_state(self, key: str) -> dict[str, Any] | None:
        return self._store.get_state(self.prefix + key)

    def put_state(self, key: str, value: dict[str, Any]) -> None:
        self._store.put_state(self.prefix + key, value)

    def check(self) -> None:
        if not self.fence():
            raise LeaseLapsed(f"partition {self.partition}: lease about to lapse, nothing more written")


class FencedEngine(DetectionEngine):
    """Detection whose checkpoints are written whole or not at all, and only while the lease holds: a worker
    that stalled past its lease must not overwrite the windows of the worker that took the partition over, and
    a checkpoint cut half-way (some correlations saved, not those chained to them) would not replay the same."""

    def __init__(self, settings: DetectionSettings, state: PartitionState, *,
                 resolve: Callable[[str], Path] = Path) -> None:
        self.state = state
        super().__init__(settings, resolve=resolve, store=state)  # type: ignore[arg-type]

    def checkpoint(self) -> int:
        self.state.check()  # once, before any write: the writes of one checkpoint go in one bulk
        return super().checkpoint()


class SourceDecoders:
    """The decoder of each source a partition's batches come from, found in the configuration by the source
    id the collector sent (``file:<live path>``, ``syslog:…``, ``push:…``), with the same origin, so the same
    event ids as the tail's, the listener's or ``serve``'s push; shippers' own messages are read apart."""

    def __init__(self, collection: Collection, saved: dict[str, Any] | None = None) -> None:
        self.collection = collection
        self.decoders: dict[str, LineDecoder | None] = {}
        self._saved = saved or {}  # parser state per source, as the partition's last settle saved it
        self._pushes: dict[str, PushDecoder] = {}  # by source id, oldest first

    def decode(self, received: Received) -> tuple[list[Event], list[DeadLetter]]:
        batch = received.batch
        if is_foreign(batch.source_id):  # a shipper's own message, straight to the partition's subject
            return self.foreign.decode(batch, received.partition, received.sequence)
        if batch.source_id.startswith(PUSH_PREFIX):
            return self._push(batch)
        decoder = self.decoders.get(batch.source_id) if batch.source_id in self.decoders else self._make(
            batch.source_id, batch.agency)
        if decoder is None:
            return [], [_unknown(batch.source_id, batch.agency, line.offset, line.data) for line in batch.lines]
        return decoder.decode(batch.lines)

    @cached_property
    def foreign(self) -> ForeignDecoder:
        bus = self.collection.settings.cluster.bus
        return ForeignDecoder(self.collection, bus.partitions if bus is not None else 1)

    def _push(self, batch: LineBatch) -> tuple[list[Event], list[DeadLetter]]:
        """An HTTP push the collector accepted: the request's batches of one group share one decoder, as the
        request's records share one in ``serve``; only the latest requests' decoders are kept."""
        decoder = self._pushes.pop(batch.source_id, None)
        if decoder is None:
            named = parse_push_source_id(batch.source_id)
            try:
                decoder = PushDecoder(self.collection, named) if named is not None else None
            except LookupError:
                decoder = None
            if decoder is None:
                return [], [_unknown(batch.source_id, batch.agency, line.offset, line.data) for line in batch.lines]
        self._pushes[batch.source_id] = decoder
        while len(self._pushes) > 64:
            self._pushes.pop(next(iter(self._pushes)))
        return decoder.decode(batch.lines)

    def _make(self, source_id: str, agency: str) -> LineDecoder | None:
        decoder = None
        kind, _, path = source_id.partition(":")
        if kind == "syslog":
            decoder = self._syslog(source_id)
        elif kind == "file":
            system = self.collection.system_listing(Path(path))
            source = next((s for s in system.log_sources if isinstance(s, FileLogSource)
                           and any(fnmatch.fnmatch(path, pattern) for pattern in s.paths)), None) if system else None
            if system is not None and source is not None:
                origin = Origin(stream=path, path=path, agency=agency, system=system.id)
                decoder = LineDecoder(self.collection.parser(source.format, source.timezone), origin,
                                      self.collection.enricher)
                decoder.framer = None  # the collector framed the records already
                decoder.restore(self._saved.get(source_id))
        if len(self.decoders) > 10_000:  # one per TCP connection: forget the old ones
            self.decoders.clear()
        self.decoders[source_id] = decoder
        return decoder

    def _syslog(self, source_id: str) -> LineDecoder | None:
        """As the listener's own decoder (collectors/syslog.py): owner by sender, body format, envelope."""
        named = parse_syslog_source_id(source_id)
        settings = self.collection.settings
        listener = next((item for item in settings.collection.syslog if named and item.name == named[0]), None)
        if named is None or listener is None:
            return None
        _, stream, sender = named
        agency, system, fmt = self.collection.syslog_owner(sender, listener.default_agency)
        parser = self.collection.parser(fmt or listener.format, listener.timezone)
        if not isinstance(parser, SyslogParser):
            envelope = self.collection.parser("syslog", listener.timezone)
            assert isinstance(envelope, SyslogParser)
            parser = envelope.carrying(parser)
        unowned = None if agency is not None else (
            f"syslog sender {sender} on listener {listener.name!r} belongs to no system and the listener has no "
            "default_agency")
        origin = Origin(stream=stream, path=f"syslog://{sender}", agency=agency, system=system, unowned=unowned)
        return LineDecoder(parser, origin, self.collection.enricher)

    def snapshot(self) -> dict[str, Any]:
        return {sid: state for sid, d in self.decoders.items() if d is not None and (state := d.snapshot())}


def _unknown(source_id: str, agency: str, offset: int, raw: bytes) -> DeadLetter:
    text = raw.decode(errors="replace")
    return DeadLetter(id=event_id(source_id, offset, raw), received=utcnow(), source_format="unknown",
                      path=source_id, offset=offset, agency=agency, raw=text,
                      reason=f"no log source in this worker's configuration for {source_id}")
