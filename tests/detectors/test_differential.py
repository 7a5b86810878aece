"""Differential tests: the engine's verdicts equal an independent reference's on every rule of the pack.

References: azuma (an independent pure-Python Sigma matcher) where it implements the rule's features
with Sigma's semantics, and for every rule the brute-force evaluator of pySigma's parsed tree in
``reference.py``; for correlations, a reference that re-scans every window after every event.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from canhgac.detectors.evidence import with_evidence
from canhgac.detectors.sigma import SigmaDetector
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.fieldmap import ecs_field
from canhgac.detectors.sigma.fixtures import expand

from tests.detectors.pack import LOADED, pack_fixtures
from tests.detectors.reference import ReferenceRule, correlation_fires

REFERENCES = {rule.id: ReferenceRule(rule.path) for rule in LOADED.rules}
#: Every fixture event of every detection rule: each rule is checked against all of them.
POOL = [event for rule in LOADED.rules for cases in pack_fixtures(rule.path).values() for event in cases]
#: Modifiers whose meaning azuma implements differently from the Sigma specification (it anchors ``re``
#: at the start, has no cidr for IPv6-mapped addresses, no time parts, no fieldref), and keywords (it
#: searches every field, bookkeeping ones included).
AZUMA_UNSUPPORTED = re.compile(r"\|(re|cidr|fieldref|expand|minute|hour|day|week|month|year|windash|base64|"
                               r"base64offset|utf16|utf16le|utf16be|wide|neq)\b")


def _ids(rule: Any) -> str:
    return rule.path.name


@pytest.mark.parametrize("rule", LOADED.rules, ids=_ids)
def test_engine_equals_brute_force_reference(rule: Any) -> None:
    detector = SigmaDetector([rule])
    reference = REFERENCES[rule.id]
    for event in POOL:
        expected = reference.matches(event)
        assert rule.matches(event) is expected, event["event.original"]
        assert (detector.matching_rules(event) == [rule]) is expected, event["event.original"]


def azuma_rule(rule: Any) -> Any:
    """The rule for azuma, with field names translated to the ECS names our events use; None if azuma
    does not implement what the rule needs."""
    from azuma import Rule

    text = rule.path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    detection = data["detection"]
    if AZUMA_UNSUPPORTED.search(yaml.safe_dump(detection)) or any(
            isinstance(value, list) and value and not isinstance(value[0], dict) for value in detection.values()):
        return None

    def translate(block: Any) -> Any:
        if isinstance(block, dict):
            return {"|".join([ecs_field(key.split("|")[0]), *key.split("|")[1:]]): value
                    for key, value in block.items()}
        return [translate(item) for item in block]

    data["detection"] = {name: block if name == "condition" else translate(block) for name, block in detection.items()}
    data.pop("title_vi", None)
    return Rule.model_validate(data)


AZUMA_RULES = [rule for rule in LOADED.rules if azuma_rule(rule) is not None]


def test_azuma_covers_a_good_share_of_the_pack() -> None:
    assert len(AZUMA_RULES) >= 10, [rule.path.name for rule in AZUMA_RULES]


@pytest.mark.parametrize("rule", AZUMA_RULES, ids=_ids)
def test_engine_equals_azuma(rule: Any) -> None:
    reference = azuma_rule(rule)
    for event in POOL:
        if not rule.route.events.accepts(event):
            continue
        assert rule.matches(event) is bool(reference.match(event)), event["event.original"]


#: The re-scanning reference is quadratic per event; scenarios longer than this are checked on a scaled
#: copy (every SCALE-th event, threshold divided by SCALE), which keeps the shape of the burst.
MAX_REFERENCE_EVENTS = 1000
SCALE = 100


@pytest.mark.parametrize("correlation", LOADED.correlations, ids=_ids)
def test_correlations_equal_window_rescanning_reference(correlation: CorrelationRule) -> None:
    for expected, scenarios in pack_fixtures(correlation.path).items():
        for scenario in scenarios:
            events = with_evidence(expand(scenario["events"]))  # rules see evidence fields, as live
            target = correlation
            if len(events) > MAX_REFERENCE_EVENTS:
                target = replace(correlation, threshold=correlation.threshold / SCALE)
                events = events[::SCALE]
            else:
                assert _fires(target, events) is (expected == "match"), scenario["name"]
            correlations = {item.id: item for item in LOADED.correlations} | {target.id: target}
            reference = bool(correlation_fires(target, correlations, REFERENCES, events))
            assert _fires(target, events) is reference, scenario["name"]


def _fires(target: CorrelationRule, events: list[dict[str, Any]]) -> bool:
    correlations = [target if item.id == target.id else item for item in LOADED.correlations]
    alerts = SigmaDetector(LOADED.rules, correlations, emit_silent=True).detect(events)
    return any(alert.rule_id == target.id for alert in alerts)
