"""The collector role's side of the bus: file tails and syslog listeners whose lines go to the stream raw.

A tail reads, frames multi-line records (ModSecurity) and hands the delivery a batch with no events, only
the raw records as ``LineBatch``es (``Batch.prepared``); the delivery's ``process`` publishes them and
returns only once the stream has acknowledged each, and only then is the file position written (the
delivery's rule, docs/decisions/0006). A syslog listener (UDP, TCP, RELP) does the same with the frames of a
sender, its source id naming the listener and the stream, from which the worker rebuilds the same decoder.
Parsing, detection and storage happen in the workers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from canhgac.collectors.bus.base import MAX_BATCH_BYTES, Bus, LineBatch
from canhgac.collectors.delivery import Batch
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.raw import RawLine
from canhgac.collectors.relp import RelpListener
from canhgac.collectors.service import Collection
from canhgac.collectors.status import StatusBoard
from canhgac.collectors.syslog import SyslogServer
from canhgac.collectors.tail import FileSource
from canhgac.core.config_collection import SyslogInput
from canhgac.core.metrics import CollectorMetrics
from canhgac.core.model import DeadLetter, Event

SYSLOG_PREFIX = "syslog:"

#: Room per line in a batch's encoding (offset and length), so that a split batch stays under the limit.
_FRAME_BYTES = 12


def split_batches(agency: str, source_id: str, records: Sequence[RawLine], max_lines: int) -> list[LineBatch]:
    """Consecutive batches of at most ``max_lines`` records and ``MAX_BATCH_BYTES`` encoded bytes."""
    out: list[LineBatch] = []
    current: list[RawLine] = []
    size = 0
    for record in records:
        cost = len(record.data) + _FRAME_BYTES
        if current and (len(current) >= max_lines or size + cost > MAX_BATCH_BYTES):
            out.append(LineBatch(agency, source_id, tuple(current)))
            current, size = [], 0
        current.append(record)
        size += cost
    if current:
        out.append(LineBatch(agency, source_id, tuple(current)))
    return out


class BusFileSource(FileSource):
    """A file tail (rotation, checkpoints, backfill as usual) that hands on raw records instead of events."""

    def __init__(self, decoder: LineDecoder, *, batch_lines: int = 2000, backfill: bool = False,
                 board: StatusBoard | None = None, bus_lines: int = 500) -> None:
        super().__init__(decoder, batch_lines=batch_lines, backfill=backfill, board=board)
        self.bus_lines = bus_lines

    def _batch(self, lines: list[RawLine]) -> Batch:
        framer = self.decoder.framer
        records = framer.feed(lines) if framer is not None else lines
        origin = self.decoder.origin
        assert origin.agency is not None  # a configured file source always has its system's agency
        batches = split_batches(origin.agency, self.id, records, self.bus_lines)
        batch = Batch(self.id, [], [], {self.checkpoint_key: self.snapshot()}, len(lines), batches or None)
        if self.board is not None:
            self.board.read(self.id, lines=len(lines), events=0, dead_letters=0)
            if self.reader is not None and not self._in_backlog:
                self._lag(self.reader)
        return batch


class Publisher:
    """The delivery's ``process`` in the collector role: publish, wait for the stream's acks, count."""

    def __init__(self, bus: Bus, metrics: CollectorMetrics | None = None) -> None:
        self.bus = bus
        self.metrics = metrics
        self.batches = 0
        self.lines = 0
        self.duplicates = 0

    def __call__(self, events: Sequence[Event], letters: Sequence[DeadLetter], prepared: Any = None) -> None:
        for batch in prepared or ():
            try:
                published = self.bus.publish(batch)  # raises BusError: the delivery keeps the batch and retries
            except Exception:
                if self.metrics is not None:
                    self.metrics.failed(_kind(batch.source_id))
                raise
            self.batches += 1
            self.lines += len(batch.lines)
            self.duplicates += published.duplicate
            if self.metrics is not None:
                self.metrics.published(_kind(batch.source_id), self.bus.partition_for(batch.agency), len(batch.lines),
                                       sum(len(line.data) for line in batch.lines), published.duplicate)


def _kind(source_id: str) -> str:
    return source_id.partition(":")[0]  # file, syslog, push: bounded, unlike the source ids


def syslog_source_id(listener: str, stream: str, sender: str) -> str:
    """What a worker needs to rebuild a syslog decoder: the listener (its format, zone, default agency), the
    stream (the event ids) and the sender (whose messages, by the configuration)."""
    return SYSLOG_PREFIX + json.dumps({"listener": listener, "stream": stream, "sender": sender}, sort_keys=True)


def parse_syslog_source_id(source_id: str) -> tuple[str, str, str] | None:
    try:
        data = json.loads(source_id[len(SYSLOG_PREFIX):])
        return str(data["listener"]), str(data["stream"]), str(data["sender"])
    except (ValueError, KeyError, TypeError):
        return None


class BusSyslogServer(SyslogServer):
    """A syslog listener as ever (framing, per-connection streams, drop counts, RELP acks after the commit —
    here after the stream's ack), whose frames are published raw instead of decoded."""

    def __init__(self, listener: SyslogInput, collection: BusCollection) -> None:
        super().__init__(listener, collection)
        self.bus_lines = collection.bus_lines

    def _deliver(self, source_id: str, decoder: LineDecoder, frames: list[RawLine], *, wait: bool) -> bool:
        origin = decoder.origin
        sender = origin.path.removeprefix("syslog://")
        bus_id = syslog_source_id(self.listener.name, origin.stream, sender)
        batches = split_batches(origin.agency or "", bus_id, frames, self.bus_lines)
        self.board.read(source_id, lines=len(frames), events=0, dead_letters=0)
        return self.collection.delivery.submit(Batch(source_id, [], [], {}, len(frames), batches or None), wait=wait)


class BusCollection(Collection):
    """The configured file tails and syslog listeners, publishing to the bus (HTTP push: the collector role
    serves the push routes over a subclass, canhgac/roles/collect.py and collectors/bus/push.py)."""

    bus_lines = 500
    listeners: Sequence[SyslogInput] = ()

    def run(self, stop: threading.Event, extra_sources: list[FileSource] | None = None) -> list[threading.Thread]:
        threads = super().run(stop, extra_sources)  # the tails (the settings given here list no listener)
        jobs = []
        for listener in self.listeners:
            server = BusSyslogServer(listener, self)
            server.bind()
            jobs.append((f"syslog-{listener.name}", server.run))
            if listener.relp_port is not None:
                jobs.append((f"relp-{listener.name}", RelpListener.bound(server).run))
        more = [threading.Thread(target=job, args=(stop,), name=name, daemon=True) for name, job in jobs]
        for thread in more:
            thread.start()
        return threads + more

    def file_source(self, origin: Origin, fmt: str, timezone: str | None = None, *, backfill: bool = False,
                    batch_lines: int = 2000) -> FileSource:
        decoder = LineDecoder(self.parser(fmt, timezone), origin, self.enricher)
        return BusFileSource(decoder, batch_lines=batch_lines, backfill=backfill, board=self.board,
                             bus_lines=self.bus_lines)
