"""The shipped rule pack: it loads cleanly, is documented, and every fixture behaves as written."""

from __future__ import annotations

import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from canhgac.core.model import REQUIRED_EVENT_FIELDS, Severity
from canhgac.detectors.evidence import event_with_evidence, with_evidence
from canhgac.detectors.sigma import CompiledRule, SigmaDetector
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.fixtures import FixtureResult, expand, fixture_path, run_fixtures

from tests.detectors.pack import LOADED, RULES_DIR, pack_detector, pack_fixtures

ITEMS: list[CompiledRule | CorrelationRule] = [*LOADED.rules, *LOADED.correlations]
BY_PATH = {item.path: item for item in ITEMS}


def _name(item: CompiledRule | CorrelationRule) -> str:
    return str(item.path.relative_to(RULES_DIR))


def test_rule_pack_loads_without_errors() -> None:
    assert LOADED.errors == [], [str(error) for error in LOADED.errors]
    assert len(LOADED.rules) >= 25 and len(LOADED.correlations) >= 15
    assert {item.path.parent.name for item in ITEMS} == {"web", "linux", "auth", "onestop", "gateway", "availability"}


def test_builtin_rules_dir_is_the_repository_rules_folder() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository / "rules" == RULES_DIR


@pytest.mark.parametrize("item", ITEMS, ids=_name)
def test_rule_metadata_is_complete(item: CompiledRule | CorrelationRule) -> None:
    text = yaml.safe_load(item.path.read_text(encoding="utf-8"))
    assert str(uuid.UUID(item.id)) == item.id
    assert text["author"] == "Canh Gác"
    assert text["status"] in {"experimental", "test", "stable"}
    assert text.get("date") is not None
    assert len(item.description) > 40
    assert item.falsepositives
    assert item.level in {"informational", "low", "medium", "high", "critical"}
    tags = item.tags if isinstance(item, CompiledRule) else item.meta.tags
    assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", tag) for tag in tags), tags
    assert isinstance(text.get("title_vi"), str) and text["title_vi"].strip()
    for key in ("response_vi", "response"):  # the response guide: what the analyst checks and does
        assert isinstance(text.get(key), str) and len(text[key].strip()) > 40, key
    assert fixture_path(item.path).is_file(), f"{item.path.name} has no fixture file"


def test_required_detections_are_present() -> None:
    titles = " | ".join(item.title.lower() for item in ITEMS)
    for words in ("sql injection", "path traversal", "scanner", "ssh authentication failure", "sensitive",
                  "cross-site scripting", "remote file inclusion", "command injection", "template injection",
                  "request forgery", "jndi", "web shell access", "web shell upload", "administration panel",
                  "ssh brute force", "password spraying", "credential stuffing", "success after many failures",
                  "bulk dossier", "enumeration", "off-hours", "gateway volume", "request flood", "server errors"):
        assert words in titles, words
    ssh = next(rule for rule in LOADED.rules if rule.title == "SSH Authentication Failure")
    assert ssh.severity is Severity.low and ssh.logsource.product == "linux" and ssh.logsource.service == "sshd"
    assert not ssh.silent  # its correlations say generate: true


#: Rules with no literal for the prefilter, so evaluated on every event of their source (and why that is fine).
EVERY_EVENT = {
    "964153d4-bc5a-4d62-9785-d269fb102637",  # every web request (the flood correlation counts them)
    "a3108aba-5134-43fc-b4e6-2b31641c53fb",  # a server error: a status test
    "32dde7a3-86c4-479a-ae61-27ca07c44da2",  # refused or not found: a status test
    "f6cc0052-5b3f-4c95-8f5e-c077da0f8851",  # gateway API call
    "e42b03ca-efc1-4abf-aa11-6b30cdd9809d",  # gateway bulk response: a size test
    "f975ef48-5fd4-4ffc-a3a5-3ce9fb510013",  # SSH failure
    "b891f93c-a4aa-4fed-949b-7ab6bb45741a",  # SSH success
    "0e4ba886-1319-4486-b279-66af5c7e8a58",  # one-stop bulk export: a count test
    "3acc9106-cf73-419f-917d-6e31cabf9307",  # one-stop download, print or export
    "71f779f4-42fc-4f0c-a21c-c3f81c61b5ad",  # one-stop dossier view
    "bff656ab-8b09-4085-aec5-2093eeed9af6",  # one-stop access off hours: a time test
    "a5d93a09-2967-4fc2-b59e-7dcd31f5f8f1",  # LDAP injection: a ')' substring gate first
}


def test_heavy_rules_keep_a_literal_for_the_prefilter() -> None:
    """A rule without one runs on every event of its source: an attack rule's dozens of expressions on every
    request cost the node a third of its speed (a lost literal in the SQL injection rule did: 18k → 12.5k/s)."""
    detector = pack_detector()
    always = {detector.rules[index].id for index in detector.prefilter.always}
    assert always <= EVERY_EVENT, sorted(always - EVERY_EVENT)


@pytest.mark.parametrize("rule", LOADED.rules, ids=_name)
def test_fixture_files_are_well_formed(rule: CompiledRule) -> None:
    fixtures = pack_fixtures(rule.path)
    assert len(fixtures["match"]) >= 3 and len(fixtures["no_match"]) >= 3
    for event in fixtures["match"] + fixtures["no_match"]:
        assert all(field in event for field in REQUIRED_EVENT_FIELDS), event


@pytest.mark.parametrize("correlation", LOADED.correlations, ids=_name)
def test_correlation_fixtures_are_well_formed(correlation: CorrelationRule) -> None:
    fixtures = pack_fixtures(correlation.path)
    assert len(fixtures["match"]) >= 3 and len(fixtures["no_match"]) >= 3
    for scenario in fixtures["match"] + fixtures["no_match"]:
        assert scenario["name"] and scenario["events"]
        for event in expand(scenario["events"]):
            assert all(field in event for field in REQUIRED_EVENT_FIELDS), event


def fixture_cases() -> list[Any]:
    cases = []
    for rule in LOADED.rules:
        for expected, events in pack_fixtures(rule.path).items():
            for index, event in enumerate(events):
                cases.append(pytest.param(rule, event, expected == "match", id=f"{_name(rule)}:{expected}[{index}]"))
    return cases


@pytest.mark.parametrize(("rule", "event", "should_match"), fixture_cases())
def test_fixture(rule: CompiledRule, event: dict[str, Any], should_match: bool) -> None:
    """Fixtures are raw decoder events; rules see them with their evidence fields, as live detection does."""
    seen = event_with_evidence(event)
    assert rule.matches(seen) is should_match
    assert (rule in pack_detector().matching_rules(seen)) is should_match


@cache
def pack_results() -> tuple[FixtureResult, ...]:
    """``run_fixtures`` over the pack (what ``canhgac rules test`` runs), once for the tests below."""
    return tuple(run_fixtures(LOADED))


@pytest.mark.parametrize("correlation", LOADED.correlations, ids=_name)
def test_correlation_scenarios(correlation: CorrelationRule) -> None:
    results = [result for result in pack_results() if result.rule_id == correlation.id]
    assert results and [result.case for result in results if not result.ok] == []


def test_run_fixtures_covers_every_rule() -> None:
    results = pack_results()
    assert {result.rule_id for result in results} == {item.id for item in ITEMS}
    assert all(result.ok for result in results)


def test_benign_fixture_events_raise_no_alert_at_all() -> None:
    """The no_match events are ordinary portal and server traffic: no shipped rule may alert on them
    (silent rules that only feed correlations may match them)."""
    pack = SigmaDetector(LOADED.rules, LOADED.correlations)
    for rule in LOADED.rules:
        detector = pack.with_fresh_windows()
        for event in pack_fixtures(rule.path)["no_match"]:
            assert detector.detect(with_evidence([event])) == [], (rule.path.name, event["event.original"])


def test_every_fixture_file_belongs_to_a_rule() -> None:
    for fixture in RULES_DIR.rglob("*.tests.yml"):
        assert fixture.with_name(fixture.name.replace(".tests.yml", ".yml")) in BY_PATH, fixture


def test_a_detector_with_fresh_windows_shares_no_window_with_its_original() -> None:
    """``run_fixtures`` runs every scenario through copies of one detector: what one scenario puts in a
    window must be seen by neither the original nor the next copy."""
    correlation = next(item for item in LOADED.correlations if item.path.name == "portal_credential_stuffing.yml")
    scenario = pack_fixtures(correlation.path)["match"][0]
    pack = SigmaDetector(LOADED.rules, LOADED.correlations, emit_silent=True)
    events = with_evidence(expand(scenario["events"]))
    first = [alert.id for alert in pack.with_fresh_windows().detect(events) if alert.rule_id == correlation.id]
    again = [alert.id for alert in pack.with_fresh_windows().detect(events) if alert.rule_id == correlation.id]
    assert first and again == first  # a shared window would know these events and fire nothing the second time
    assert all(not state.groups for state in pack.correlation.states.values())
