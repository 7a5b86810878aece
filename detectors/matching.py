"""The stateless half of detecting a batch, for one rule set: which rules each event matches, the alerts of
the generating ones, and a compact copy of the event for the correlations it feeds (docs/decisions/0037).

Which rules an event matches depends only on the fields those rules read (and on the route that accepted
it). Portals serve the same pages to everyone, so the matches are remembered by the values of those fields:
evidence fields count as the attacker-controlled inputs they are derived from. A route whose rules read a
field that differs in every event (its time, id, the line itself, or a keyword search) is never cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from canhgac.core.model import Alert, Event
from canhgac.detectors.evidence import INPUT_FIELDS, PREFIX, evidence
from canhgac.detectors.indicators import IndicatorMatcher
from canhgac.detectors.sigma import SigmaDetector
from canhgac.detectors.sigma.detector import build_alert
from canhgac.detectors.sigma.fieldmap import KEYWORD_FIELD
from canhgac.detectors.sigma.nodes import read_fields
from canhgac.detectors.sigma.rule import CompiledRule

#: Fields that differ in (nearly) every event: remembering matches keyed by them would only cost memory.
VOLATILE_FIELDS = frozenset({"@timestamp", "event.id", "event.original", "event.ingested", "log.offset",
                             KEYWORD_FIELD})
#: What a correlation reads of an event besides its group-by and value fields (correlation.py).
CORRELATION_FIELDS = ("organization.id", "@timestamp", "event.id", "log.file.path", "service.id")
CACHE_LIMIT = 16384
Hit = tuple[int, tuple[tuple[str, Alert | None], ...], Event | None]
#: (matching rules that alert or feed, with whether each alerts; evidence fields; (rule id, None) pairs when
#: none alerts; whether one feeds a correlation)
Matches = tuple[tuple[tuple[CompiledRule, bool], ...], dict[str, Any], tuple[tuple[str, None], ...] | None, bool]
_NOTHING: Matches = ((), {}, (), False)


class BatchMatcher:
    def __init__(self, detector: SigmaDetector, indicators: IndicatorMatcher) -> None:
        self.detector = detector
        self.indicators = indicators
        self.feeds = detector.correlation.inputs
        needed = set(CORRELATION_FIELDS)
        for listeners in detector.correlation.listeners.values():
            for _, _, fields, value in listeners:
                needed.update(fields)
                if value is not None:
                    needed.add(value)
        #: the fields of an event its correlations see (group-by, value and bookkeeping fields)
        self.fed_fields = tuple(sorted(needed))
        self._fed_plain = tuple(name for name in self.fed_fields if not name.startswith(PREFIX))
        self._fed_evidence = tuple(name for name in self.fed_fields if name.startswith(PREFIX))
        self._reads = [read_fields(rule.condition) for rule in detector.rules]
        self._cacheable = not any(name.startswith(PREFIX) for name in detector.route_fields)
        self._keys: dict[frozenset[int], tuple[str, ...] | None] = {}
        self._found: dict[tuple[Any, ...], Matches] = {}

    def match(self, events: Sequence[Event]) -> tuple[list[Hit], list[Alert]]:
        """Per matched event: its index, (rule id, alert or None for a silent rule) of every rule that alerts
        or feeds a correlation, and the event as its correlations see it when it feeds one; then the alerts
        of the indicator lists."""
        slim, matches_of = self.slim, self.matches
        hits: list[Hit] = []
        for index, event in enumerate(events):
            rules, fields, quiet, fed = matches_of(event)
            if not rules:
                continue
            if quiet is None:  # a rule alerts: its alert names this event
                seen = {**event, **fields} if fields else event
                found = tuple((rule.id, build_alert(rule, seen) if alerts else None) for rule, alerts in rules)
            else:
                found = quiet
            hits.append((index, found, slim(event, fields) if fed else None))
        if not self.indicators.lists:
            return hits, []
        return hits, self.indicators.detect([{**event, **fields} if (fields := evidence(event)) else event
                                             for event in events])

    def matches(self, event: Event) -> Matches:
        """The rules that match ``event`` and alert or feed a correlation (with whether each alerts), the
        event's evidence fields, the (rule id, None) pairs when none alerts, and whether one feeds."""
        detector = self.detector
        key: tuple[Any, ...] | None = None
        if self._cacheable:
            accepted = detector.routes(event)[0]
            if not accepted:
                return _NOTHING
            names = self._keys.get(accepted, ())
            if names == ():
                names = self._keys[accepted] = self._key_fields(accepted)
            if names is not None:
                values = tuple(map(event.get, names))
                key = (accepted, values, tuple(map(type, values)))  # types: 1, 1.0 and True are equal keys
                try:
                    cached = self._found.get(key)
                except TypeError:  # a list or mapping value cannot be a key: not remembered
                    cached, key = None, None
                if cached is not None:
                    return cached
        fields = evidence(event)
        generating, feeds = detector.emit_silent, self.feeds
        rules = tuple((rule, generating or not rule.silent)
                      for rule in detector.matching_rules({**event, **fields} if fields else event)
                      if generating or not rule.silent or rule.id in feeds)
        quiet = None if any(alerts for _, alerts in rules) else tuple((rule.id, None) for rule, _ in rules)
        found = (rules, fields, quiet, any(rule.id in feeds for rule, _ in rules))
        if key is not None:
            if len(self._found) >= CACHE_LIMIT:
                self._found.clear()
            self._found[key] = found
        return found

    def slim(self, event: Event, fields: dict[str, Any]) -> Event:
        """The fields of ``event`` (evidence included) that its correlations read: all they need of it."""
        get = fields.get if self._fed_evidence else event.get
        out = {name: value for name in self._fed_plain if (value := event.get(name)) is not None}
        if self._fed_evidence:
            out.update((name, value) for name in self._fed_evidence if (value := get(name)) is not None)
        return out

    def _key_fields(self, accepted: frozenset[int]) -> tuple[str, ...] | None:
        route = self.detector.rule_route
        names: set[str] = set()
        for index, reads in enumerate(self._reads):
            if route[index] in accepted:
                names |= reads
        if names & VOLATILE_FIELDS:
            return None
        if any(name.startswith(PREFIX) for name in names):
            names = {name for name in names if not name.startswith(PREFIX)} | set(INPUT_FIELDS)
        return tuple(sorted(names))
