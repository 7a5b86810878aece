"""Rule fixtures: the events next to each rule (``<name>.tests.yml``) and running them.

A detection rule's fixture lists events under ``match`` (each must trigger it) and ``no_match`` (none
may). A correlation's fixture lists scenarios: ``{name, events}``, where ``events`` is a sequence of
events and of ``repeat`` steps (``{repeat: N, every: 2s, event: {...}, vary: {field: "text {i}"}}``)
that expand to N events spaced in time, with fresh ``event.id``s; each ``match`` scenario must fire the
correlation, no ``no_match`` scenario may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from canhgac.core.model import Event, parse_utc, stable_id, to_utc_iso
from canhgac.core.yamlpos import COMPOSER
from canhgac.detectors.evidence import event_with_evidence, with_evidence
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.detector import SigmaDetector
from canhgac.detectors.sigma.loader import LoadedRules
from canhgac.detectors.sigma.rule import CompiledRule

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def fixture_path(rule_path: Path) -> Path:
    return rule_path.with_name(rule_path.name.rsplit(".", 1)[0] + ".tests.yml")


def read_fixtures(rule_path: Path) -> dict[str, list[Any]]:
    data = yaml.load(fixture_path(rule_path).read_text(encoding="utf-8"), Loader=COMPOSER) or {}
    return {"match": list(data.get("match") or []), "no_match": list(data.get("no_match") or [])}


def expand(steps: list[Any]) -> list[Event]:
    """The events of a correlation scenario, ``repeat`` steps unrolled."""
    events: list[Event] = []
    for step in steps:
        if "repeat" not in step:
            events.append(dict(step))
            continue
        base = step["event"]
        every = _seconds(str(step.get("every", "1s")))
        start = parse_utc(base["@timestamp"])
        for index in range(int(step["repeat"])):
            event = dict(base)
            for name, template in (step.get("vary") or {}).items():
                event[name] = _typed(str(template).format(i=index, n=index + 1))
            event["@timestamp"] = to_utc_iso(start + timedelta(seconds=every * index))
            event["event.id"] = stable_id(str(base["event.id"]), str(index))
            events.append(event)
    return events


def _seconds(text: str) -> float:
    """``500ms``, ``3s``, ``5m``, ``1h`` (or a bare number of seconds)."""
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * _UNITS[unit]
    return float(text)


def _typed(text: str) -> Any:
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class FixtureResult:
    rule_id: str
    title: str
    path: Path
    case: str  # e.g. "match[2]" or "no_match[0] (a name)"
    expected: bool
    fired: bool

    @property
    def ok(self) -> bool:
        return self.expected == self.fired


def run_fixtures(loaded: LoadedRules) -> list[FixtureResult]:
    """Every fixture of every loaded rule and correlation that has a fixture file."""
    results: list[FixtureResult] = []
    for rule in loaded.rules:
        if fixture_path(rule.path).is_file():
            results += rule_results(rule)
    # One detector's routes and prefilter serve every scenario: they hold no state and cost more to build
    # than a scenario costs to detect. Each scenario gets windows of its own.
    pack = SigmaDetector(loaded.rules, loaded.correlations, emit_silent=True)
    for correlation in loaded.correlations:
        if fixture_path(correlation.path).is_file():
            results += correlation_results(correlation, pack)
    return results


def rule_results(rule: CompiledRule) -> list[FixtureResult]:
    results = []
    for expected, cases in read_fixtures(rule.path).items():
        for index, event in enumerate(cases):
            results.append(FixtureResult(rule.id, rule.title, rule.path, f"{expected}[{index}]", expected == "match",
                                         rule.matches(event_with_evidence(event))))
    return results


def correlation_results(correlation: CorrelationRule, pack: SigmaDetector) -> list[FixtureResult]:
    """Each scenario of ``correlation``'s fixture through ``pack`` (every rule, ``emit_silent``), windows empty."""
    results = []
    for expected, scenarios in read_fixtures(correlation.path).items():
        for index, scenario in enumerate(scenarios):
            alerts = pack.with_fresh_windows().detect(with_evidence(expand(scenario["events"])))
            fired = any(alert.rule_id == correlation.id for alert in alerts)
            case = f"{expected}[{index}] ({scenario.get('name', '')})"
            results.append(FixtureResult(correlation.id, correlation.title, correlation.path, case,
                                         expected == "match", fired))
    return results
