"""Run compiled rules over events and turn matches into alerts."""

from __future__ import annotations

from collections.abc import Sequence

from canhgac.model import Alert, Event, parse_utc, stable_id
from detectors.sigma.fieldmap import EventFilter
from detectors.sigma.rule import CompiledRule

DETECTOR = "sigma"
#: Event fields copied into an alert's entities when present.
ENTITY_FIELDS = ("source.ip", "user.name", "url.domain")


class SigmaDetector:
    """Evaluates rules grouped by log source, so each event's route is checked once per group."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        groups: dict[EventFilter, list[CompiledRule]] = {}
        for rule in rules:
            groups.setdefault(rule.route.events, []).append(rule)
        self.rules = tuple(rules)
        self.groups: tuple[tuple[EventFilter, tuple[CompiledRule, ...]], ...] = tuple(
            (events, tuple(group)) for events, group in groups.items())

    def matching_rules(self, event: Event) -> list[CompiledRule]:
        matched: list[CompiledRule] = []
        for events, rules in self.groups:
            if events.accepts(event):
                for rule in rules:
                    if rule.condition.matches(event):
                        matched.append(rule)
        return matched

    def detect(self, events: Sequence[Event]) -> list[Alert]:
        """One alert per (rule, event) match."""
        return [build_alert(rule, event) for event in events for rule in self.matching_rules(event)]


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
