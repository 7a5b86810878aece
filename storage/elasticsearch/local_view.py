"""What the ingest path must read right after writing it, kept in the process instead of forcing refreshes
(docs/decisions/0035-elasticsearch-write-path.md).

``IncidentView``: the incidents a grouping lookup can return (open ones, and closed ones changed lately, for
reopening), by fingerprint. Loaded from the store on first use; every ``reload_seconds`` the incidents
changed since the last load (``updated``, with a margin for the cluster's refresh and clocks) are read again
to see what other processes did; this store's own writes are put in at once. Between two loads a
change made elsewhere is found out by the write that conflicts with it: the store then reads the incident
again (a realtime GET) and puts it here.

``SequenceBlocks``: numbers handed out from blocks the store reserved with one conditional write each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from canhgac.core.model import Incident, utcnow
from canhgac.storage.base import IncidentQuery

#: The only fields a query served here may set (besides these, every field must keep its default).
_SERVED_FIELDS = {"fingerprint", "states", "limit", "agencies"}
_DEFAULTS = IncidentQuery()


def served_locally(query: IncidentQuery) -> bool:
    """True for the grouping lookup: one fingerprint, maybe states and agencies, newest activity first."""
    if query.fingerprint is None:
        return False
    return all(getattr(query, name) == getattr(_DEFAULTS, name)
               for name in IncidentQuery.__dataclass_fields__ if name not in _SERVED_FIELDS)


#: Provisional versions (a write held in a unit of work) come after every stored one.
_PENDING_TERM = 1 << 62


def version_key(version: str | None) -> tuple[int, int]:
    """Versions ``seq_no:primary_term`` in write order (a higher primary term wins)."""
    if (version or "").startswith("pending:"):
        return (_PENDING_TERM, int((version or "").split(":")[1]))
    try:
        seq_no, term = (int(part) for part in (version or "").split(":"))
    except ValueError:
        return (-1, -1)
    return (term, seq_no)


#: Changes looked for again at each reload reach this far back before the last one.
RELOAD_MARGIN = timedelta(minutes=5)


class IncidentView:
    """``load(since)``: open incidents and closed ones changed in the last ``closed_days``, all of them (``since``
    None) or only those whose ``updated`` is at or after ``since``."""

    def __init__(self, load: Callable[[datetime | None], list[Incident]], *, reload_seconds: float = 60.0,
                 closed_days: int = 30, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = utcnow) -> None:
        self._load = load
        self.reload_seconds = reload_seconds
        self.closed_for = timedelta(days=closed_days)
        self._clock = clock
        self._wall = wall
        self._by_id: dict[str, Incident] = {}
        self._loaded_at: float | None = None
        self._loaded_wall: datetime | None = None  # when the last load began (None: load everything)
        self._lock = threading.RLock()

    def search(self, query: IncidentQuery) -> list[Incident]:
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self.reload_seconds:
                self._reload(now)
            found = [i for i in self._by_id.values() if i.fingerprint == query.fingerprint
                     and (query.states is None or i.state in query.states)
                     and (query.agencies is None or i.agency in query.agencies)]
        found.sort(key=lambda i: i.id)
        found.sort(key=lambda i: i.last_seen, reverse=True)
        return found[:query.limit]

    def put(self, incident: Incident, *, force: bool = False) -> None:
        """An incident as this store just wrote or read it (realtime), if newer than the one kept (``force``:
        whatever is kept, e.g. a held write that lost its race)."""
        with self._lock:
            kept = self._by_id.get(incident.id)
            if force or kept is None or version_key(incident.version) >= version_key(kept.version):
                self._by_id[incident.id] = incident

    def invalidate(self) -> None:
        """Forget held writes that were never stored, and read everything again at the next lookup."""
        with self._lock:
            self._by_id = {k: v for k, v in self._by_id.items() if version_key(v.version)[0] != _PENDING_TERM}
            self._loaded_at = self._loaded_wall = None

    def forget(self, incident_id: str) -> None:
        with self._lock:
            self._by_id.pop(incident_id, None)

    def _reload(self, now: float) -> None:
        began = self._wall()
        since = None if self._loaded_wall is None else self._loaded_wall - RELOAD_MARGIN
        # A search sees writes only after the cluster's next refresh: what this process wrote is kept unless
        # the loaded copy is newer.
        for incident in self._load(since):
            kept = self._by_id.get(incident.id)
            if kept is None or version_key(incident.version) > version_key(kept.version):
                self._by_id[incident.id] = incident
        oldest = began - self.closed_for
        self._by_id = {k: v for k, v in self._by_id.items() if v.state.is_open or v.updated >= oldest}
        self._loaded_at, self._loaded_wall = now, began


@dataclass(frozen=True)
class Block:
    next: int
    end: int  # exclusive


class SequenceBlocks:
    """Per name, the rest of the block this process reserved; ``reserve(name, size)`` → first number of a new
    block of ``size`` (one conditional write in the store)."""

    def __init__(self, reserve: Callable[[str, int], int], *, size: int = 100) -> None:
        self._reserve = reserve
        self.size = size
        self._blocks: dict[str, Block] = {}
        self._lock = threading.Lock()

    def next(self, name: str) -> int:
        with self._lock:
            block = self._blocks.get(name)
            if block is None or block.next >= block.end:
                first = self._reserve(name, self.size)
                block = Block(first, first + self.size)
            self._blocks[name] = replace(block, next=block.next + 1)
            return block.next
