"""Run compiled rules over events and turn matches into alerts.

Per event: the log source routes that accept it are looked up once (cached by the values of the few
fields routes test), each route's prefilter names the rules that can match, only those are evaluated,
and the matches of rules that feed correlations go to the correlation engine.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from canhgac.core.model import Alert, Event, parse_utc, stable_id
from canhgac.detectors.sigma.correlation import CorrelationEngine, CorrelationRule
from canhgac.detectors.sigma.prefilter import Prefilter
from canhgac.detectors.sigma.rule import CompiledRule

DETECTOR = "sigma"
#: Event fields copied into an alert's entities when present.
ENTITY_FIELDS = ("source.ip", "user.name", "url.domain")
_ROUTE_CACHE_LIMIT = 4096


class SigmaDetector:
    """Evaluates rules routed by log source and prefiltered by their literals, and feeds correlations."""

    def __init__(self, rules: Sequence[CompiledRule], correlations: Sequence[CorrelationRule] = (), *,
                 lateness_seconds: int = 120, emit_silent: bool = False) -> None:
        self.rules = tuple(rules)
        self.filters = tuple(dict.fromkeys(rule.route.events for rule in rules))
        position = {events: index for index, events in enumerate(self.filters)}
        self.rule_route = tuple(position[rule.route.events] for rule in rules)
        self.route_fields = tuple(sorted({name for events in self.filters for name in events.fields}))
        self.prefilter = Prefilter([rule.condition for rule in rules])
        self._routes: dict[tuple[object, ...], tuple[frozenset[int], tuple[int, ...]]] = {}
        self.emit_silent = emit_silent  # fixtures and hunts want to see what feeds correlations too
        self.correlation = CorrelationEngine(correlations, lateness_seconds=lateness_seconds, emit_silent=emit_silent)
        self._feeds = self.correlation.inputs

    def with_fresh_windows(self) -> SigmaDetector:
        """The same rules with no correlation window open yet; the routes and the prefilter, which cost
        more to build than a small scenario costs to detect, are shared (they hold no state)."""
        fresh = copy.copy(self)
        windows = self.correlation
        fresh.correlation = CorrelationEngine(windows.correlations, lateness_seconds=windows.lateness // 1000,
                                              emit_silent=windows.emit_silent)
        fresh._feeds = fresh.correlation.inputs
        return fresh

    def routes(self, event: Event) -> tuple[frozenset[int], tuple[int, ...]]:
        """The routes accepting the event and the unanchored rules of those routes (cached per field values)."""
        get = event.get
        key = tuple([_hashable(get(name)) for name in self.route_fields])
        found = self._routes.get(key)
        if found is None:
            if len(self._routes) >= _ROUTE_CACHE_LIMIT:
                self._routes.clear()
            accepted = frozenset(index for index, events in enumerate(self.filters) if events.accepts(event))
            always = tuple(index for index in self.prefilter.always if self.rule_route[index] in accepted)
            found = self._routes[key] = (accepted, always)
        return found

    def matching_rules(self, event: Event) -> list[CompiledRule]:
        accepted, always = self.routes(event)
        if not accepted:
            return []
        hits = self.prefilter.hits(event)
        if hits:
            route = self.rule_route
            hits.update(always)
            candidates: Sequence[int] = sorted(index for index in hits if route[index] in accepted)
        else:
            candidates = always
        rules = self.rules
        matched: list[CompiledRule] = []
        for index in candidates:
            rule = rules[index]
            if rule.condition.matches(event):
                matched.append(rule)
        return matched

    def detect(self, events: Sequence[Event]) -> list[Alert]:
        """One alert per (rule, event) match of a generating rule, plus the alerts correlations fire."""
        alerts: list[Alert] = []
        feeds = self._feeds
        for event in events:
            for rule in self.matching_rules(event):
                if not rule.silent or self.emit_silent:
                    alerts.append(build_alert(rule, event))
                if rule.id in feeds:
                    alerts += self.correlation.observe(rule.id, event)
        return alerts


def build_alert(rule: CompiledRule, event: Event) -> Alert:
    """The alert for ``rule`` matching ``event``; its id depends only on the two, so re-ingesting is idempotent."""
    event_id = event["event.id"]
    moment = parse_utc(event["@timestamp"])
    system = event.get("service.id")
    return Alert(
        id=stable_id(DETECTOR, rule.id, event_id),
        detector=DETECTOR,
        rule_id=rule.id,
        rule_title=rule.title,
        rule_title_vi=rule.title_vi,
        rule_name=rule.name,
        grouping=rule.grouping,
        severity=rule.severity,
        tags=list(rule.tags),
        agency=event["organization.id"],
        system=str(system) if system is not None else None,
        entities=entities_of(event),
        first_seen=moment,
        last_seen=moment,
        count=1,
        event_ids=[event_id],
        details={"matched_fields": rule.matched_fields(event)},
    )


def entities_of(event: Event) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ENTITY_FIELDS:
        value = event.get(name)
        if value is not None and value != "" and not isinstance(value, list | dict):
            found[name] = str(value)
    return found


def _hashable(value: object) -> object:
    return tuple(value) if type(value) is list else value
