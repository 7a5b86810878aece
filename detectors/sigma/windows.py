"""Sliding event-time windows of one correlation group, with incremental aggregates.

Entries are kept sorted by (event time, event id), so the order — and therefore every verdict — depends
on the events, not on the order they arrived in. In-order arrivals (the common case) move one window
forward and update the aggregate in O(1); an arrival inside the allowed lateness re-scans the windows
that contain it. Entries that already fired are removed, their ids kept as ``consumed`` until they
expire, so a replayed batch is recognised and neither counted twice nor fired twice.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from canhgac.detectors.sigma.values import as_number

_NO_VALUES: Counter[Any] = Counter()


class Entry(NamedTuple):
    ts: int  # event time, epoch milliseconds
    event_id: str
    rule: int  # index of the referenced rule in the correlation's ``rules`` list
    value: Any  # the correlated field's value (value_count / value_sum / value_avg), else None
    evidence: tuple[str, ...]  # event ids behind the entry: (event_id,) or a chained correlation's events


def _order(entry: Entry) -> tuple[int, str]:
    return entry.ts, entry.event_id


class Aggregate:
    """The running value of one correlation type over the entries currently in a window."""

    __slots__ = ("count", "kind", "numeric", "total", "values")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.count = 0
        self.values: Counter[Any] = Counter() if kind in ("value_count", "temporal") else _NO_VALUES
        self.total = 0.0
        self.numeric = 0

    def add(self, entry: Entry) -> None:
        self.count += 1
        if self.kind == "event_count":
            return
        if self.kind == "value_count":
            if entry.value is not None:
                self.values[entry.value] += 1
        elif self.kind in ("value_sum", "value_avg"):
            number = as_number(entry.value)
            if number is not None:
                self.total += number
                self.numeric += 1
        elif self.kind == "temporal":
            self.values[entry.rule] += 1

    def remove(self, entry: Entry) -> None:
        self.count -= 1
        if self.kind == "event_count":
            return
        if self.kind == "value_count":
            if entry.value is not None:
                self.values[entry.value] -= 1
                if not self.values[entry.value]:
                    del self.values[entry.value]
        elif self.kind in ("value_sum", "value_avg"):
            number = as_number(entry.value)
            if number is not None:
                self.total -= number
                self.numeric -= 1
        elif self.kind == "temporal":
            self.values[entry.rule] -= 1
            if not self.values[entry.rule]:
                del self.values[entry.rule]

    def value(self) -> float:
        if self.kind == "value_count":
            return len(self.values)
        if self.kind == "value_sum":
            return self.total
        if self.kind == "value_avg":
            return self.total / self.numeric if self.numeric else float("nan")
        if self.kind == "temporal":
            return len(self.values)
        return self.count

    def present_rules(self) -> frozenset[int]:
        return frozenset(self.values) if self.kind == "temporal" else frozenset()


#: Does a window satisfy the correlation condition? Given its aggregate and ``entries[lo:hi]`` (read lazily:
#: only ordered correlations look at the entries themselves).
Verdict = Callable[[Aggregate, list[Entry], int, int], bool]


class GroupWindow:
    """The entries of one correlation group and the aggregate of the newest window."""

    __slots__ = ("aggregate", "consumed", "entries", "kind", "newest", "seen", "span", "start", "times")

    def __init__(self, kind: str, span_ms: int) -> None:
        self.kind = kind
        self.span = span_ms
        self.entries: list[Entry] = []
        self.times: list[int] = []
        self.start = 0  # first entry of the newest window
        self.aggregate = Aggregate(kind)
        self.seen: set[str] = set()
        self.consumed: dict[str, int] = {}  # event id → event time, for ids that already fired
        #: the group's own watermark: the newest event time it has seen (lateness is judged against it, so a
        #: forged timestamp in one group cannot make another group's events late)
        self.newest = 0

    def knows(self, event_id: str) -> bool:
        return event_id in self.seen or event_id in self.consumed

    def add(self, entry: Entry, verdict: Verdict, *, needed: int | None = None,
            monotone: bool = False) -> list[Entry] | None:
        """Insert an entry; the window's entries if a window containing it now satisfies the condition.

        ``needed``: the fewest entries a satisfying window holds, if known. A late entry whose neighbourhood
        (one span either side) holds fewer is not scanned at all — what keeps out-of-order floods cheap.
        ``monotone``: no part of a window satisfies the condition unless the window does (counts at least N).
        """
        self.seen.add(entry.event_id)
        # In (time, id) order, ties too: a window restored from a checkpoint is sorted so (from_state), and the
        # alert id hashes the evidence in window order, so an interrupted run must order ties as a live one.
        if not self.entries or (entry.ts, entry.event_id) >= (self.times[-1], self.entries[-1].event_id):
            self.entries.append(entry)
            self.times.append(entry.ts)
            self.aggregate.add(entry)
            while self.times[self.start] < entry.ts - self.span:
                self.aggregate.remove(self.entries[self.start])
                self.start += 1
            if (needed is None or len(self.entries) - self.start >= needed) and verdict(
                    self.aggregate, self.entries, self.start, len(self.entries)):
                return self.entries[self.start:]
            return None
        if monotone and entry.ts == self.times[-1]:
            # A tie with the newest time (logs with whole seconds): the first window a scan would try is the
            # newest one, and every later one is a part of it, so only the newest can satisfy the condition.
            position = bisect_right(self.entries, (entry.ts, entry.event_id), lo=bisect_left(self.times, entry.ts),
                                    key=_order)
            self.entries.insert(position, entry)
            self.times.insert(position, entry.ts)
            self.aggregate.add(entry)
            if (needed is None or len(self.entries) - self.start >= needed) and verdict(
                    self.aggregate, self.entries, self.start, len(self.entries)):
                return self.entries[self.start:]
            return None
        position = bisect_right(self.entries, (entry.ts, entry.event_id), key=_order)
        self.entries.insert(position, entry)
        self.times.insert(position, entry.ts)
        around = bisect_right(self.times, entry.ts + self.span) - bisect_left(self.times, entry.ts - self.span)
        found = None if needed is not None and around < needed else self._scan(entry.ts, verdict)
        if position >= self.start:  # the late entry falls inside the newest window
            self.aggregate.add(entry)
        else:
            self.start += 1
        return found

    def _scan(self, moment: int, verdict: Verdict) -> list[Entry] | None:
        """The first window [t, t + span] that contains ``moment`` and satisfies the condition.

        One sweep: as the window's start moves right, entries leave the aggregate at the left and join it at
        the right, so a late event costs time linear in the entries around it, not quadratic.
        """
        times, entries = self.times, self.entries
        aggregate = Aggregate(self.kind)
        end = bisect_left(times, moment - self.span)
        for index in range(end, bisect_right(times, moment)):
            limit = times[index] + self.span
            while end < len(times) and times[end] <= limit:
                aggregate.add(entries[end])
                end += 1
            if verdict(aggregate, entries, index, end):
                return entries[index:end]
            aggregate.remove(entries[index])
        return None

    def _rebuild(self) -> None:
        self.aggregate = Aggregate(self.kind)
        self.start = bisect_left(self.times, self.times[-1] - self.span) if self.times else 0
        for entry in self.entries[self.start:]:
            self.aggregate.add(entry)

    def consume(self, window: list[Entry]) -> None:
        """Fired: the window's entries leave the group but their ids are remembered."""
        gone = {entry.event_id for entry in window}
        for entry in window:
            self.consumed[entry.event_id] = entry.ts
            self.seen.discard(entry.event_id)
        self.entries = [entry for entry in self.entries if entry.event_id not in gone]
        self.times = [entry.ts for entry in self.entries]
        self._rebuild()

    def expire(self, before: int) -> None:
        """Forget entries and consumed ids older than ``before`` (they can no longer share a window)."""
        cut = bisect_left(self.times, before)
        if cut:
            for entry in self.entries[:cut]:
                self.seen.discard(entry.event_id)
            del self.entries[:cut]
            del self.times[:cut]
            self._rebuild()
        if self.consumed and min(self.consumed.values()) < before:
            self.consumed = {key: ts for key, ts in self.consumed.items() if ts >= before}

    @property
    def empty(self) -> bool:
        return not self.entries and not self.consumed

    def to_state(self) -> dict[str, Any]:
        return {"entries": [[e.ts, e.event_id, e.rule, e.value, list(e.evidence)] for e in self.entries],
                "consumed": [[key, ts] for key, ts in self.consumed.items()], "newest": self.newest}

    @classmethod
    def from_state(cls, kind: str, span_ms: int, state: dict[str, Any]) -> GroupWindow:
        window = cls(kind, span_ms)
        window.entries = [Entry(int(ts), str(eid), int(rule), value, tuple(evidence))
                          for ts, eid, rule, value, evidence in state.get("entries", [])]
        window.entries.sort(key=lambda item: (item.ts, item.event_id))
        window.times = [entry.ts for entry in window.entries]
        window.seen = {entry.event_id for entry in window.entries}
        window.consumed = {str(key): int(ts) for key, ts in state.get("consumed", [])}
        window.newest = int(state.get("newest", window.times[-1] if window.times else 0))
        window._rebuild()
        return window
