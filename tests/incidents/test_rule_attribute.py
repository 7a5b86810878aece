"""The rule file says how its alerts group (Sigma custom attribute ``incident_grouping``): parsed with the rule,
refused with a located error when unknown, carried to every alert the rule (or correlation) raises."""

from __future__ import annotations

from pathlib import Path

import pytest
from canhgac.detectors.sigma import builtin_rules_dir, load_rules
from canhgac.detectors.sigma.detector import SigmaDetector

from tests.detectors.support import web_event

RULE = """title: Bulk export by one official
title_vi: Một cán bộ xuất hàng loạt hồ sơ
{attribute}id: 6d4b8c1e-0f7a-4c52-9e3b-2a1d5f6e7c80
name: test_bulk_export
status: test
logsource:
  category: webserver
detection:
  selection:
    url.path|startswith: /xuat-ho-so
  condition: selection
level: high
---
title: Many exports by one official
id: 0b9e2f4a-7c31-4d68-8a5e-3f1c2d4b6a97
status: test
{attribute}correlation:
  type: event_count
  rules:
    - test_bulk_export
  group-by:
    - user.name
  timespan: 10m
  condition:
    gte: 2
  generate: true
level: critical
"""
EVENT = web_event({"url.path": "/xuat-ho-so/123", "source.ip": "10.0.0.5", "user.name": "can-bo-a"})


def load(tmp_path: Path, attribute: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.yml"
    path.write_text(RULE.format(attribute=attribute), encoding="utf-8")
    return load_rules([path])


def test_the_attribute_reaches_the_alerts_of_rules_and_correlations(tmp_path: Path) -> None:
    loaded = load(tmp_path, "incident_grouping: user\n")
    assert loaded.errors == [], [str(e) for e in loaded.errors]
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    alerts = detector.detect([EVENT, {**EVENT, "event.id": "e2", "@timestamp": "2025-03-15T02:13:44.000Z"}])
    assert [(a.rule_name, a.grouping) for a in alerts if a.details.get("correlation") is None] == \
        [("test_bulk_export", "user")] * 2
    [correlation] = [a for a in alerts if a.details.get("correlation")]
    assert correlation.grouping == "user" and correlation.entities == {"user.name": "can-bo-a"}


def test_without_the_attribute_the_alert_says_nothing(tmp_path: Path) -> None:
    loaded = load(tmp_path, "")
    [alert] = SigmaDetector(loaded.rules, loaded.correlations).detect([EVENT])
    assert alert.grouping is None and alert.rule_name == "test_bulk_export"


@pytest.mark.parametrize("value", ["together", "[user]"])
def test_an_unknown_value_is_a_located_error(tmp_path: Path, value: str) -> None:
    loaded = load(tmp_path, f"incident_grouping: {value}\n")
    assert loaded.errors and all(e.field == "incident_grouping" for e in loaded.errors)
    assert all(e.line is not None and "source, user, system, alone" in str(e) for e in loaded.errors)


def test_the_shipped_account_and_availability_rules_say_how_they_group() -> None:
    pack = load_rules([builtin_rules_dir()])
    by_folder: dict[str, set[str | None]] = {}
    for path, grouping in [*((r.path, r.grouping) for r in pack.rules),
                           *((c.path, c.meta.grouping) for c in pack.correlations)]:
        by_folder.setdefault(path.parent.name, set()).add(grouping)
    assert by_folder["onestop"] == {"user"}
    assert by_folder["availability"] >= {"system"}
    assert by_folder["web"] == {None}  # attackers by address: the default
