"""The sink every source delivers to: batches reach the pipeline (and so the store) in the order they were
submitted, checkpoints are written only after their batch is committed, and while the store is down batches
wait in the on-disk spool (or, without a spool, the submitting source waits).

Because event ids are stable, replaying a batch that was in fact committed just before a crash stores
nothing twice: at-least-once delivery with the effect of exactly-once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from canhgac.collectors.spool import Spool
from canhgac.core.model import DeadLetter, Event
from canhgac.storage.base import Store

log = logging.getLogger(__name__)
Process = Callable[[Sequence[Event], Sequence[DeadLetter]], Any]
#: ``settle(force)``: True when the detection state saved in the store covers every batch processed so far
#: (with ``force``: save it now). Positions are written only then: a restart must not skip lines whose
#: effect on correlation windows was not saved. Called ``settle(True, also)`` when no position is held:
#: ``also`` writes more (the source status) in the same unit of work as the state.
Settle = Callable[..., bool]


@dataclass
class Batch:
    source: str  # the status key of the source that read it
    events: list[Event]
    letters: list[DeadLetter]
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)  # state key → value, after commit
    lines: int = 0
    # Work done on the events ahead of the pipeline (another process's half of detection), never spooled:
    # a replayed batch is simply processed in full.
    prepared: Any = None

    def encode(self) -> dict[str, Any]:
        return {"source": self.source, "events": self.events, "letters": [d.to_doc() for d in self.letters],
                "checkpoints": self.checkpoints, "lines": self.lines}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> Batch:
        return cls(data["source"], data["events"], [DeadLetter.model_validate(d) for d in data["letters"]],
                   data.get("checkpoints") or {}, data.get("lines", 0))


class Delivery:
    def __init__(self, process: Process, store: Store, spool: Spool | None = None, *,
                 on_commit: Callable[[Batch], None] | None = None, on_error: Callable[[str], None] | None = None,
                 min_backoff: float = 0.2, max_backoff: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, settle: Settle | None = None) -> None:
        self.process = process
        self.settle_state = settle
        self._held: dict[str, dict[str, Any]] = {}  # positions of committed batches, until the state is saved
        self.store = store
        self.spool = spool
        self.on_commit = on_commit
        self.on_error = on_error
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self._cond = threading.Condition()
        self._backoff = min_backoff
        self._retry_at = 0.0
        self.last_error: str | None = None
        self.store_down_since: float | None = None
        self.committed_batches = 0
        self.spooled_batches = 0

    # submitting -------------------------------------------------------------------------------------
    def submit(self, batch: Batch, *, wait: bool = True, timeout: float | None = None) -> bool:
        """Hand a batch on. Returns False only if ``wait`` is off (or ``timeout`` passes) while the store is
        down and the spool is full (or absent): the caller then sheds it (UDP) or refuses it (HTTP 503)."""
        deadline = None if timeout is None else self.clock() + timeout
        payload: bytes | None = None
        with self._cond:
            while True:
                if (self.spool is None or self.spool.empty) and self.clock() >= self._retry_at \
                        and self._try(batch):
                    return True
                if self.spool is not None:
                    payload = payload or self.spool.encode(batch.encode())
                    if self.spool.has_room(len(payload)):
                        self.spool.append(payload)
                        self.spooled_batches += 1
                        self._cond.notify_all()
                        return True
                if not wait or (deadline is not None and self.clock() >= deadline):
                    return False
                self._cond.wait(self._pause())

    def _pause(self) -> float:
        return max(0.01, min(self._retry_at - self.clock(), 0.5)) if self.spool is None else 0.5

    def _try(self, batch: Batch) -> bool:
        try:
            self._commit(batch)
        except Exception as exc:  # whatever the store raised, the batch is kept and retried
            self._failed(exc)
            return False
        self._recovered()
        return True

    def _commit(self, batch: Batch) -> None:
        if batch.prepared is None:
            self.process(batch.events, batch.letters)
        else:
            self.process(batch.events, batch.letters, batch.prepared)  # type: ignore[call-arg]
        self._held.update(batch.checkpoints)
        if self.settle_state is None or self.settle_state(False):
            self._write_held()
        self.committed_batches += 1
        if self.on_commit is not None:
            self.on_commit(batch)

    def _write_held(self, also: Callable[[], None] | None = None) -> None:
        if not self._held and also is None:
            return
        with self.store.unit_of_work():  # on Elasticsearch: one bulk for all the positions (and ``also``)
            for key, value in self._held.items():
                self.store.put_state(key, value)
            if also is not None:
                also()
        self._held.clear()  # only once sent: a failed send keeps them held for the next settle

    def settle(self, also: Callable[[], None] | None = None) -> None:
        """Save the detection state and the positions held back for it (on a cadence, and before stopping).
        ``also`` writes more with the positions, after the state is saved (the source status): on
        Elasticsearch they share one bulk."""
        with self._cond:
            if self.settle_state is not None and also is not None and not self._held:
                self.settle_state(True, also)  # no position to follow the state: one unit for both
                return
            if self.settle_state is not None:
                self.settle_state(True)
            self._write_held(also)

    def _failed(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self.store_down_since is None:
            self.store_down_since = self.clock()
            log.warning("the store refused a batch (%s); keeping batches until it is back", self.last_error)
        self._retry_at = self.clock() + self._backoff
        self._backoff = min(self._backoff * 2, self.max_backoff)
        if self.on_error is not None:
            self.on_error(self.last_error)

    def _recovered(self) -> None:
        if self.store_down_since is not None:
            log.warning("the store is back after %.1f s", self.clock() - self.store_down_since)
        self.store_down_since = None
        self._backoff = self.min_backoff

    # replaying the spool ----------------------------------------------------------------------------
    def drain(self, max_batches: int = 50) -> bool:
        """Replay spooled batches, oldest first, while the store takes them. True when the spool is empty."""
        if self.spool is None:
            return True
        with self._cond:
            for _ in range(max_batches):
                if self.spool.empty:
                    return True
                if self.clock() < self._retry_at:
                    return False
                record = self.spool.peek()
                if record is None:
                    return True
                if not self._try(Batch.decode(record)):
                    return False
                self.spool.pop()
                self._cond.notify_all()
            return self.spool.empty

    def run(self, stop: threading.Event) -> None:
        """Background replay for a long-running process."""
        while not stop.is_set():
            if self.drain():
                stop.wait(0.2)
            else:
                stop.wait(max(0.05, min(self._retry_at - self.clock(), 1.0)))

    def flush(self, stop: threading.Event | None = None, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Wait until every spooled batch is committed (or ``stop`` is set). True if the spool is empty."""
        while not self.drain():
            if stop is not None and stop.is_set():
                return False
            sleep(max(0.05, min(self._retry_at - self.clock(), 1.0)))
        return True

    @property
    def pending(self) -> tuple[int, int]:
        """Batches and bytes waiting in the spool."""
        if self.spool is None:
            return 0, 0
        return self.spool.count, self.spool.pending_bytes
