"""Sigma correlation rules evaluated on streams: sliding event-time windows per group, checkpointable.

A correlation sees the events its referenced rules matched (or the alerts of referenced correlations,
for chains such as "success after many failures"), groups them by ``organization.id`` plus its
``group-by`` fields, and fires when a window of ``timespan`` satisfies its condition. Events older than
their group's watermark (the group's newest event time minus the allowed lateness) are counted as late
and not used; each group keeps its own, so no event of one agency or group can make another's late.
See docs/decisions/0013-correlation-windows.md.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from canhgac.core.model import Alert, Event, parse_utc, stable_id, to_utc_iso
from canhgac.detectors.sigma.rule import RuleMeta
from canhgac.detectors.sigma.windows import Aggregate, Entry, GroupWindow

DETECTOR = "sigma"
#: How many evidence event ids an alert lists (its ``count`` and id cover them all).
MAX_EVIDENCE = 500
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "eq": operator.eq,
    "neq": operator.ne,
}
AGENCY_FIELD = "organization.id"


@dataclass(eq=False)
class CorrelationRule:
    """A compiled correlation: which rules feed it, how events are grouped, and when it fires."""

    meta: RuleMeta
    path: Path
    line: int | None
    kind: str
    rule_refs: tuple[str, ...]
    group_by: tuple[str, ...]
    span_seconds: int
    timespan: str
    op: str
    threshold: float
    value_field: str | None = None
    #: group-by / value field name → {referenced rule id → event field}
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    generate: bool = False
    #: extended temporal condition: which sets of present rules (by index) satisfy it
    expression: Callable[[frozenset[int]], bool] | None = None
    expression_text: str | None = None
    rule_ids: tuple[str, ...] = ()  # resolved by the loader, in the order of ``rule_refs``
    description: str = ""
    falsepositives: list[str] = field(default_factory=list)
    level: str | None = None
    references: list[str] = field(default_factory=list)
    silent: bool = False
    refs_line: int | None = None  # where ``rules`` is written, for errors about references

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        return self.meta.title

    def fingerprint(self) -> str:
        """Changes whenever the definition changes: a stored window state only fits an identical rule."""
        return stable_id(json.dumps([self.kind, self.rule_ids, self.group_by, self.span_seconds, self.op,
                                     self.threshold, self.value_field, self.aliases, self.expression_text],
                                    sort_keys=True, default=str))

    def field_for(self, name: str, rule_id: str) -> str:
        return self.aliases.get(name, {}).get(rule_id, name)

    @cached_property
    def entries_needed(self) -> int | None:
        """The fewest entries a window must hold for the condition to be possibly true, where that is known.

        A count of events or of distinct values never exceeds the number of entries, and a temporal condition
        over all its rules needs one entry per rule; sums, averages and ``neq`` give no such floor.
        """
        if self.kind in ("event_count", "value_count"):
            if self.op in ("gte", "eq"):
                return max(0, math.ceil(self.threshold))
            if self.op == "gt":
                return max(0, math.floor(self.threshold) + 1)
        if self.kind == "temporal_ordered" or (self.kind == "temporal" and self.expression is None):
            return len(self.rule_ids)
        return None

    @cached_property
    def monotone(self) -> bool:
        """Whether a window can satisfy the condition only if every window holding it does: counts of events
        or of distinct values that must reach a threshold."""
        return self.kind in ("event_count", "value_count") and self.op in ("gt", "gte")

    def verdict(self, aggregate: Aggregate, entries: list[Entry], lo: int, hi: int) -> bool:
        if self.kind == "temporal_ordered":
            return self._in_order(entries, lo, hi)
        if self.kind == "temporal" and self.expression is not None:
            return self.expression(aggregate.present_rules())
        value = aggregate.value()
        return not math.isnan(value) and OPERATORS[self.op](value, self.threshold)

    def _in_order(self, entries: list[Entry], lo: int, hi: int) -> bool:
        """The referenced rules matched in the listed order (times non-decreasing) inside the window."""
        wanted = 0
        for index in range(lo, hi):
            if entries[index].rule == wanted:
                wanted += 1
                if wanted == len(self.rule_ids):
                    return True
        return False


#: A group that has seen nothing for this long, by its agency's newest event time, is dropped from memory.
IDLE_GROUP_MS = 3_600_000


@dataclass
class _State:
    groups: dict[tuple[str, ...], GroupWindow] = field(default_factory=dict)
    #: per agency: newest event time seen (epoch ms) and that time at the last sweep of idle groups
    watermarks: dict[str, int] = field(default_factory=dict)
    swept: dict[str, int] = field(default_factory=dict)
    late: int = 0
    late_by_source: dict[str, set[str]] = field(default_factory=dict)  # log.file.path → ids of late events
    dirty: bool = False


class CorrelationEngine:
    """Feeds rule matches into every correlation that references the rule; returns the alerts it fires."""

    def __init__(self, correlations: Sequence[CorrelationRule], *, lateness_seconds: int = 120,
                 emit_silent: bool = False) -> None:
        self.correlations = tuple(correlations)
        self.emit_silent = emit_silent
        self.lateness = lateness_seconds * 1000
        self.states = {rule.id: _State() for rule in self.correlations}
        #: rule id → (correlation, index of the rule in it, group-by event fields, value event field)
        self.listeners: dict[str, list[tuple[CorrelationRule, int, tuple[str, ...], str | None]]] = {}
        for rule in self.correlations:
            for index, rule_id in enumerate(rule.rule_ids):
                fields = tuple(rule.field_for(name, rule_id) for name in rule.group_by)
                value = rule.field_for(rule.value_field, rule_id) if rule.value_field is not None else None
                self.listeners.setdefault(rule_id, []).append((rule, index, fields, value))

    @property
    def inputs(self) -> frozenset[str]:
        """Ids of the rules (and correlations) whose matches the engine wants to see."""
        return frozenset(self.listeners)

    def late_events(self) -> dict[str, int]:
        return {rule_id: state.late for rule_id, state in self.states.items() if state.late}

    def drain_late(self) -> dict[str, int]:
        """Events left out as too late for their correlation group since the last call, per ``log.file.path``."""
        found: dict[str, set[str]] = {}
        for state in self.states.values():
            for source, ids in state.late_by_source.items():
                found.setdefault(source, set()).update(ids)  # late for three correlations is one event left out
            state.late_by_source.clear()
        return {source: len(ids) for source, ids in found.items()}

    def observe(self, rule_id: str, event: Event, evidence: tuple[str, ...] = ()) -> list[Alert]:
        """One match of ``rule_id`` on ``event``; alerts of the correlations it completes (chains included)."""
        alerts: list[Alert] = []
        for correlation, index, fields, value_field in self.listeners.get(rule_id, ()):
            fired = self._feed(correlation, index, fields, value_field, event, evidence)
            if fired is None:
                continue
            alert, synthetic = fired
            if not correlation.silent or self.emit_silent:
                alerts.append(alert)
            alerts += self.observe(correlation.id, synthetic, tuple(alert.event_ids))
        return alerts

    def _feed(self, rule: CorrelationRule, index: int, fields: tuple[str, ...], value_field: str | None,
              event: Event, evidence: tuple[str, ...]) -> tuple[Alert, Event] | None:
        agency = event.get(AGENCY_FIELD)
        if agency is None:
            return None
        key: tuple[str, ...] = (str(agency),)
        for name in fields:
            found = event.get(name)
            if found is None or found == []:
                return None  # like a terms aggregation, events without the field form no group
            key += (str(_scalar(found)),)
        state = self.states[rule.id]
        moment = _millis(event["@timestamp"])
        window = state.groups.get(key)
        if window is not None and moment < window.newest - self.lateness:
            state.late += 1
            source = str(event.get("log.file.path") or "")
            state.late_by_source.setdefault(source, set()).add(str(event.get("event.id")))
            return None
        agency_key = key[0]
        if moment > state.watermarks.get(agency_key, 0):
            state.watermarks[agency_key] = moment
            if moment - state.swept.get(agency_key, 0) >= max(rule.span_seconds * 1000, 60_000):
                self._expire(rule, state, agency_key)
                window = state.groups.get(key)
        if window is None:
            window = state.groups[key] = GroupWindow(rule.kind, rule.span_seconds * 1000)
        if moment > window.newest:
            window.newest = moment
        event_id = str(event["event.id"])
        if window.knows(event_id):
            return None  # a replayed event: already counted (or already fired)
        value = _scalar(event.get(value_field)) if value_field is not None else None
        state.dirty = True
        fired = window.add(Entry(moment, event_id, index, value, evidence or (event_id,)), rule.verdict,
                           needed=rule.entries_needed, monotone=rule.monotone)
        if fired is None:
            return None
        window.consume(fired)
        return self._alert(rule, key, fired, event)

    def _expire(self, rule: CorrelationRule, state: _State, agency: str) -> None:
        """Drop what can no longer share a window with a new event of its group (memory only).

        Each group is trimmed by its own watermark; a whole group goes only once it has been idle for an
        hour of its agency's event time. No other agency's clock, and no other group's, is consulted.
        """
        watermark = state.watermarks[agency]
        state.swept[agency] = watermark
        keep = rule.span_seconds * 1000 + self.lateness
        for key in [key for key in state.groups if key[0] == agency]:
            window = state.groups[key]
            window.expire(window.newest - keep)
            if window.empty or window.newest < watermark - keep - IDLE_GROUP_MS:
                del state.groups[key]

    def _alert(self, rule: CorrelationRule, key: tuple[str, ...], window: list[Entry],
               event: Event) -> tuple[Alert, Event]:
        evidence = [event_id for entry in window for event_id in entry.evidence]
        group = dict(zip(rule.group_by, key[1:], strict=True))
        aggregate = Aggregate(rule.kind)
        for entry in window:
            aggregate.add(entry)
        first, last = window[0].ts, window[-1].ts
        alert_id = stable_id(DETECTOR, rule.id, *key, *evidence)
        system = event.get("service.id")
        alert = Alert(
            id=alert_id, detector=DETECTOR, rule_id=rule.id, rule_title=rule.title, rule_title_vi=rule.meta.title_vi,
            rule_name=rule.meta.name, grouping=rule.meta.grouping, severity=rule.meta.severity,
            tags=list(rule.meta.tags), agency=key[0],
            system=str(system) if system is not None else None,
            entities={name: value for name, value in group.items()},
            first_seen=parse_utc(_iso(first)), last_seen=parse_utc(_iso(last)), count=len(evidence),
            event_ids=evidence[:MAX_EVIDENCE],
            details={"correlation": rule.kind, "group": group, "timespan": rule.timespan,
                     "condition": rule.expression_text or f"{rule.op} {rule.threshold:g}",
                     "value": None if rule.kind == "temporal_ordered" else aggregate.value(),
                     "rules": list(rule.rule_ids), "evidence_total": len(evidence)},
        )
        synthetic: Event = {"@timestamp": _iso(last), "event.id": alert_id, AGENCY_FIELD: key[0], **group}
        if system is not None:
            synthetic["service.id"] = system
        return alert, synthetic

    # checkpoints ----------------------------------------------------------------------------------
    def snapshot(self, *, only_dirty: bool = True) -> dict[str, dict[str, Any]]:
        """Serialisable state per correlation id (only those changed since the last snapshot, by default)."""
        found: dict[str, dict[str, Any]] = {}
        for rule in self.correlations:
            state = self.states[rule.id]
            if only_dirty and not state.dirty:
                continue
            state.dirty = False
            found[rule.id] = {"version": 2, "fingerprint": rule.fingerprint(), "watermarks": state.watermarks,
                              "late": state.late,
                              "groups": [[list(key), window.to_state()] for key, window in state.groups.items()]}
        return found

    def restore(self, states: Mapping[str, Mapping[str, Any] | None]) -> int:
        """Load saved states whose definition still matches; returns how many were restored."""
        restored = 0
        for rule in self.correlations:
            saved = states.get(rule.id)
            if not saved or saved.get("version") not in (1, 2) or saved.get("fingerprint") != rule.fingerprint():
                continue
            state = _State(late=int(saved.get("late", 0)))
            for key, window in saved.get("groups", []):
                group = state.groups[tuple(key)] = GroupWindow.from_state(rule.kind, rule.span_seconds * 1000, window)
                agency = str(key[0])
                state.watermarks[agency] = max(state.watermarks.get(agency, 0), group.newest)
            # version 1 kept one watermark for every agency, which a single forged timestamp could poison:
            # the per-agency marks are rebuilt from each group's own newest event instead.
            for agency, mark in (saved.get("watermarks") or {}).items():
                state.watermarks[str(agency)] = max(state.watermarks.get(str(agency), 0), int(mark))
            self.states[rule.id] = state
            restored += 1
        return restored


_millis_cache: dict[str, int] = {}


def _millis(timestamp: str) -> int:
    """Epoch milliseconds of a stored timestamp; cached, as many events share their second."""
    found = _millis_cache.get(timestamp)
    if found is None:
        if len(_millis_cache) > 8192:
            _millis_cache.clear()
        found = _millis_cache[timestamp] = int(parse_utc(timestamp).timestamp() * 1000)
    return found


def _iso(millis: int) -> str:
    from datetime import UTC, datetime

    return to_utc_iso(datetime.fromtimestamp(millis / 1000, UTC))


def _scalar(value: object) -> Any:
    if type(value) is list:
        return ",".join(str(item) for item in value) if value else None
    return value
