"""Per-source health, the same for every source (Vector-style): lines read, events and dead letters, drops,
lag in bytes and seconds, events per second, the last error. Kept in memory by the collecting process and
saved to the store's state (``source-status:<id>``) every few seconds, so ``canhgac sources`` and the API
see it from any process; the counters carry on across restarts."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from canhgac.core.model import Event, parse_utc, to_utc_iso, utcnow
from canhgac.storage.base import Store

STATE_PREFIX = "source-status:"
RATE_WINDOW = 60.0
#: Past this many saved statuses, a new source's is read by key rather than from the listing.
SAVED_LISTING_LIMIT = 1000


@dataclass
class SourceStatus:
    id: str
    kind: str  # file | syslog-udp | syslog-tcp | http | spool
    format: str = ""
    path: str = ""
    agency: str | None = None
    system: str | None = None
    lines: int = 0
    events: int = 0
    dead_letters: int = 0
    flagged: int = 0
    future_time: int = 0  # events whose own time was too far ahead: stored at arrival time, tagged future_timestamp
    late: int = 0  # events left out of correlation windows as older than their group allows
    dropped: int = 0  # UDP datagrams lost (socket overflow or a full spool), HTTP requests refused
    committed_events: int = 0
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    events_per_second: float = 0.0
    caught_up_at: str | None = None  # when the source last had nothing left to read
    last_event_time: str | None = None  # newest @timestamp handed on
    last_read_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    updated: str | None = None
    _samples: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def doc(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_samples")
        return data

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SourceStatus:
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__ and not k.startswith("_")}
        return cls(**known)


def flag_counts(events: Sequence[Event]) -> dict[str, int]:
    """The per-source counters that come from the events of a batch (for ``StatusBoard.read``)."""
    flagged = future = 0
    for event in events:
        if "tags" in event:
            flagged += 1
            if "future_timestamp" in event["tags"]:
                future += 1
    return {"flagged": flagged, "future_time": future}


class StatusBoard:
    def __init__(self, store: Store | None = None, *, clock: Any = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self.sources: dict[str, SourceStatus] = {}
        # Every status saved before this process first registered a source, listed once (None: not listed yet,
        # or the listing was cut at ``SAVED_LISTING_LIMIT``): a source missing from it has none, so a new
        # source (each file ``canhgac ingest`` reads) costs no read of the store.
        self._saved: dict[str, dict[str, Any]] | None = None
        self._listed = False
        #: ``log.file.path`` of events → the source reading them, where that path is not the source's own
        #: (a syslog listener's events say ``syslog://SENDER``)
        self._event_paths: dict[str, str] = {}

    def register(self, source_id: str, kind: str, **details: Any) -> SourceStatus:
        """The status of a source, carrying on the counters a previous run saved."""
        with self._lock:
            status = self.sources.get(source_id)
            if status is not None:
                return status
            saved = None
            if self.store is not None:
                try:
                    saved = self._saved_status(source_id)
                except Exception:  # the store may be down at start; counters then start from zero
                    saved = None
            status = SourceStatus.from_doc({**(saved or {}), "id": source_id, "kind": kind, **details})
            status.lag_bytes, status.lag_seconds, status.events_per_second = 0, 0.0, 0.0
            self.sources[source_id] = status
            return status

    def _saved_status(self, source_id: str) -> dict[str, Any] | None:
        assert self.store is not None
        if not self._listed:
            listing = self.store.list_state(STATE_PREFIX, limit=SAVED_LISTING_LIMIT)
            self._listed = True
            if len(listing) < SAVED_LISTING_LIMIT:
                self._saved = {key[len(STATE_PREFIX):]: doc for key, doc in listing.items()}
        if self._saved is not None:
            return self._saved.pop(source_id, None)  # from now on it is this process's own, in ``sources``
        return self.store.get_state(STATE_PREFIX + source_id)

    def read(self, source_id: str, *, lines: int, events: int, dead_letters: int, flagged: int = 0,
             future_time: int = 0, newest: str | None = None) -> None:
        status = self.sources[source_id]
        with self._lock:
            status.lines += lines
            status.events += events
            status.dead_letters += dead_letters
            status.flagged += flagged
            status.future_time += future_time
            status.last_read_at = to_utc_iso(utcnow())
            if newest is not None and (status.last_event_time is None or newest > status.last_event_time):
                status.last_event_time = newest

    def committed(self, source_id: str, events: int) -> None:
        status = self.sources.get(source_id)
        if status is None:
            return
        with self._lock:
            status.committed_events += events
            now = self.clock()
            status._samples.append((now, events))
            while status._samples and status._samples[0][0] < now - RATE_WINDOW:
                status._samples.popleft()

    def lag(self, source_id: str, lag_bytes: int) -> None:
        status = self.sources[source_id]
        with self._lock:
            status.lag_bytes = max(0, lag_bytes)
            if status.lag_bytes == 0:
                status.caught_up_at = to_utc_iso(utcnow())

    def reads(self, source_id: str, event_path: str) -> None:
        """Source ``source_id`` hands on events whose ``log.file.path`` is ``event_path`` (for ``late``)."""
        if len(self._event_paths) > 10000:  # one per syslog sender: bounded like the listener's decoders
            self._event_paths.clear()
        self._event_paths[event_path] = source_id

    def late(self, counts: dict[str, int]) -> None:
        """Events detection left out as late, per ``log.file.path``: counted on the sources reading that path."""
        with self._lock:
            for status in self.sources.values():
                found = counts.get(status.path) or counts.get(status.id)
                if found:
                    status.late += found
            for path, count in counts.items():
                owner = self.sources.get(self._event_paths.get(path, ""))
                if owner is not None and path not in (owner.path, owner.id):
                    owner.late += count

    def dropped(self, source_id: str, count: int) -> None:
        with self._lock:
            self.sources[source_id].dropped += count

    def error(self, source_id: str, message: str | None) -> None:
        with self._lock:
            status = self.sources[source_id]
            if message is not None:
                status.last_error = message[:500]
                status.last_error_at = to_utc_iso(utcnow())

    def snapshot(self) -> list[SourceStatus]:
        with self._lock:
            now = self.clock()
            for status in self.sources.values():
                recent = [n for at, n in status._samples if at >= now - RATE_WINDOW]
                span = min(RATE_WINDOW, max(1.0, now - status._samples[0][0])) if status._samples else RATE_WINDOW
                status.events_per_second = round(sum(recent) / span, 1)
                status.lag_seconds = _lag_seconds(status)
                status.updated = to_utc_iso(utcnow())
            return [SourceStatus.from_doc(s.doc()) for s in self.sources.values()]

    def persist(self) -> None:
        if self.store is None:
            return
        with self.store.unit_of_work():  # on Elasticsearch: one bulk for every source
            for status in self.snapshot():
                self.store.put_state(STATE_PREFIX + status.id, status.doc())


def _lag_seconds(status: SourceStatus) -> float:
    if status.lag_bytes <= 0 or status.caught_up_at is None:
        return 0.0
    return round(max(0.0, (utcnow() - parse_utc(status.caught_up_at)).total_seconds()), 1)


def saved_statuses(store: Store) -> list[SourceStatus]:
    """Every source status saved in the store, with lag recomputed for now (a stopped collector's lag grows)."""
    statuses = []
    for key, doc in sorted(store.list_state(STATE_PREFIX).items()):
        status = SourceStatus.from_doc({**doc, "id": key[len(STATE_PREFIX):]})
        if status.kind == "file":
            _file_lag(status, store)
        status.lag_seconds = _lag_seconds(status)
        age = age_seconds(status.updated)
        if age is None or age > max(60.0, RATE_WINDOW):  # nobody has reported for it lately
            status.events_per_second = 0.0
        statuses.append(status)
    return statuses


def _file_lag(status: SourceStatus, store: Store) -> None:
    """Bytes of the live file past the committed checkpoint, measured now."""
    from canhgac.collectors.file import file_identity
    from canhgac.collectors.rotation import file_size

    checkpoint = store.get_state("file:" + status.path) or {}
    size = file_size(status.path)
    if size is None:
        return
    same = (checkpoint.get("device"), checkpoint.get("inode")) == file_identity(status.path)
    status.lag_bytes = max(0, size - int(checkpoint.get("offset", 0))) if same else size


def age_seconds(moment: str | None) -> float | None:
    if moment is None:
        return None
    return (utcnow() - parse_utc(moment)).total_seconds()
