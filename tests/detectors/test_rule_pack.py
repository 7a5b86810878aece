"""The shipped rule pack: it loads cleanly, is documented, and every fixture behaves as written."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from canhgac.model import REQUIRED_EVENT_FIELDS, Severity
from detectors.sigma import CompiledRule, SigmaDetector, builtin_rules_dir, load_rules

RULES_DIR = builtin_rules_dir()
LOADED = load_rules([RULES_DIR])
BY_PATH = {rule.path: rule for rule in LOADED.rules}


def fixture_path(rule_path: Path) -> Path:
    return rule_path.with_name(rule_path.name.removesuffix(".yml") + ".tests.yml")


def fixture_cases() -> list[Any]:
    cases = []
    for rule in LOADED.rules:
        fixtures = yaml.safe_load(fixture_path(rule.path).read_text(encoding="utf-8"))
        for expected in ("match", "no_match"):
            for index, event in enumerate(fixtures[expected]):
                name = f"{rule.path.relative_to(RULES_DIR)}:{expected}[{index}]"
                cases.append(pytest.param(rule, event, expected == "match", id=name))
    return cases


def test_rule_pack_loads_without_errors() -> None:
    assert LOADED.errors == [], [str(error) for error in LOADED.errors]
    assert len(LOADED.rules) >= 5
    assert {rule.path.parent.name for rule in LOADED.rules} == {"web", "linux"}


def test_builtin_rules_dir_is_the_repository_rules_folder() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository / "rules" == RULES_DIR


@pytest.mark.parametrize("rule", LOADED.rules, ids=lambda rule: rule.path.name)
def test_rule_metadata_is_complete(rule: CompiledRule) -> None:
    text = yaml.safe_load(rule.path.read_text(encoding="utf-8"))
    assert str(uuid.UUID(rule.id)) == rule.id
    assert text["author"] == "Canh Gác"
    assert text["status"] in {"experimental", "test", "stable"}
    assert text.get("date") is not None
    assert len(rule.description) > 40
    assert rule.falsepositives
    assert rule.level in {"informational", "low", "medium", "high", "critical"}
    assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", tag) for tag in rule.tags), rule.tags
    assert fixture_path(rule.path).is_file(), f"{rule.path.name} has no fixture file"


def test_required_rules_are_present() -> None:
    titles = " | ".join(rule.title.lower() for rule in LOADED.rules)
    for words in ("sql injection", "path traversal", "scanner", "ssh authentication failure", "sensitive"):
        assert words in titles
    ssh = next(rule for rule in LOADED.rules if "ssh" in rule.title.lower())
    assert ssh.severity is Severity.low and ssh.logsource.product == "linux" and ssh.logsource.service == "sshd"


@pytest.mark.parametrize("rule", LOADED.rules, ids=lambda rule: rule.path.name)
def test_fixture_files_are_well_formed(rule: CompiledRule) -> None:
    fixtures = yaml.safe_load(fixture_path(rule.path).read_text(encoding="utf-8"))
    assert set(fixtures) == {"match", "no_match"}
    assert len(fixtures["match"]) >= 3 and len(fixtures["no_match"]) >= 3
    for event in fixtures["match"] + fixtures["no_match"]:
        assert all(field in event for field in REQUIRED_EVENT_FIELDS), event


@pytest.mark.parametrize(("rule", "event", "should_match"), fixture_cases())
def test_fixture(rule: CompiledRule, event: dict[str, Any], should_match: bool) -> None:
    assert rule.matches(event) is should_match
    assert (rule in SigmaDetector(LOADED.rules).matching_rules(event)) is should_match


def test_benign_fixture_events_raise_no_alert_at_all() -> None:
    """The no_match events are ordinary portal and server traffic: no shipped rule may fire on them."""
    detector = SigmaDetector(LOADED.rules)
    for rule in LOADED.rules:
        for event in yaml.safe_load(fixture_path(rule.path).read_text(encoding="utf-8"))["no_match"]:
            assert detector.matching_rules(event) == [], (rule.path.name, event["event.original"])


def test_every_fixture_file_belongs_to_a_rule() -> None:
    for fixture in RULES_DIR.rglob("*.tests.yml"):
        assert fixture.with_name(fixture.name.replace(".tests.yml", ".yml")) in BY_PATH, fixture
