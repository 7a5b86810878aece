"""SigmaDetector: log source routing, one alert per (rule, event), stable alert ids and alert contents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from canhgac.core.model import Severity, stable_id
from canhgac.detectors.sigma import CompiledRule, SigmaDetector

from tests.detectors.support import ABSENT, SSHD_LOGSOURCE, auth_event, compile_rule, web_event

SCANNER = """
    selection:
      c-useragent|contains: sqlmap
    condition: selection
"""
POST = """
    selection:
      cs-method: POST
    condition: selection
"""
SSH_FAILURE = """
    selection:
      event.action: ssh_login
      event.outcome: failure
    condition: selection
"""


@pytest.fixture
def scanner(tmp_path: Path) -> CompiledRule:
    return compile_rule(tmp_path, SCANNER, level="high", title="Scanner", tags=("attack.t1595.002",))


def test_alert_for_a_match(scanner: CompiledRule) -> None:
    event = web_event({"user_agent.original": "sqlmap/1.7.2#stable", "user.name": "quantri"})
    [alert] = SigmaDetector([scanner]).detect([event])
    assert alert.id == stable_id("sigma", scanner.id, event["event.id"])
    assert alert.detector == "sigma"
    assert (alert.rule_id, alert.rule_title) == (scanner.id, "Scanner")
    assert alert.severity is Severity.high
    assert alert.tags == ["attack.t1595.002"]
    assert (alert.agency, alert.system) == ("binhdinh", "dvc-binhdinh")
    assert alert.entities == {"source.ip": "14.161.22.87", "user.name": "quantri",
                              "url.domain": "dichvucong.binhdinh.gov.vn"}
    assert alert.first_seen == alert.last_seen == datetime(2025, 3, 15, 2, 12, 44, tzinfo=UTC)
    assert alert.count == 1
    assert alert.event_ids == [event["event.id"]]
    assert alert.details == {"matched_fields": ["user_agent.original"]}


def test_alert_ids_are_stable_across_runs_and_detectors(scanner: CompiledRule, tmp_path: Path) -> None:
    event = web_event({"user_agent.original": "sqlmap"})
    first = SigmaDetector([scanner]).detect([event])
    again = SigmaDetector([scanner]).detect([dict(event)])
    assert [alert.id for alert in first] == [alert.id for alert in again]
    other_event = web_event({"user_agent.original": "sqlmap", "event.id": "another-line"})
    assert SigmaDetector([scanner]).detect([other_event])[0].id != first[0].id
    same_rule_reloaded = compile_rule(tmp_path, SCANNER, rule_id=scanner.id)
    assert SigmaDetector([same_rule_reloaded]).detect([event])[0].id == first[0].id


def test_one_alert_per_rule_and_event(scanner: CompiledRule, tmp_path: Path) -> None:
    post = compile_rule(tmp_path, POST, title="POST")
    events = [web_event({"user_agent.original": "sqlmap", "http.request.method": "POST", "event.id": "e1"}),
              web_event({"user_agent.original": "Mozilla", "http.request.method": "POST", "event.id": "e2"}),
              web_event({"user_agent.original": "Mozilla", "event.id": "e3"})]
    alerts = SigmaDetector([scanner, post]).detect(events)
    assert [(alert.rule_title, alert.event_ids[0]) for alert in alerts] == [
        ("Scanner", "e1"), ("POST", "e1"), ("POST", "e2")]
    assert len({alert.id for alert in alerts}) == 3


def test_matching_rules_keeps_rule_order(scanner: CompiledRule, tmp_path: Path) -> None:
    post = compile_rule(tmp_path, POST)
    event = web_event({"user_agent.original": "sqlmap", "http.request.method": "POST"})
    assert SigmaDetector([post, scanner]).matching_rules(event) == [post, scanner]
    assert SigmaDetector([scanner, post]).matching_rules(event) == [scanner, post]


def test_web_rules_only_see_web_events(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        selection:
          c-ip|cidr: 185.220.101.0/24
        condition: selection
    """)
    web = web_event({"source.ip": "185.220.101.45"})
    auth = auth_event({"source.ip": "185.220.101.45"})
    assert rule.matches(web) and not rule.matches(auth)
    assert SigmaDetector([rule]).matching_rules(auth) == []
    proxy_rule = compile_rule(tmp_path, "selection:\n  c-ip: 185.220.101.45\ncondition: selection",
                              logsource="category: proxy")
    assert proxy_rule.matches(web) and not proxy_rule.matches(auth)


def test_sshd_rules_only_see_auth_events(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, SSH_FAILURE, logsource=SSHD_LOGSOURCE, level="low")
    auth = auth_event()
    look_alike = web_event({"event.action": "ssh_login", "event.outcome": "failure"})
    assert rule.matches(auth) and not rule.matches(look_alike)
    [alert] = SigmaDetector([rule]).detect([auth, look_alike])
    assert alert.severity is Severity.low
    assert alert.entities == {"source.ip": "185.220.101.45", "user.name": "root"}
    assert alert.details["matched_fields"] == ["event.action", "event.outcome"]
    auth_service_rule = compile_rule(tmp_path, SSH_FAILURE, logsource="product: linux\n  service: auth")
    assert auth_service_rule.matches(auth) and not auth_service_rule.matches(look_alike)


@pytest.mark.parametrize(("level", "severity"), [
    ("informational", Severity.low), ("low", Severity.low), ("medium", Severity.medium),
    ("high", Severity.high), ("critical", Severity.critical), (None, Severity.medium),
])
def test_sigma_levels_map_to_severities(tmp_path: Path, level: str | None, severity: Severity) -> None:
    assert compile_rule(tmp_path, POST, level=level).severity is severity


def test_absent_optional_fields(scanner: CompiledRule) -> None:
    event = web_event({"user_agent.original": "sqlmap", "service.id": ABSENT, "url.domain": ABSENT,
                       "source.ip": ABSENT})
    [alert] = SigmaDetector([scanner]).detect([event])
    assert alert.system is None
    assert alert.entities == {}


def test_negated_tests_are_not_reported_as_matched_fields(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        selection:
          cs-method: POST
        filter:
          c-useragent|contains: monitor
        condition: selection and not filter
    """)
    event = web_event({"http.request.method": "POST"})
    assert rule.matched_fields(event) == ["http.request.method"]


def test_no_events_no_alerts(scanner: CompiledRule) -> None:
    assert SigmaDetector([scanner]).detect([]) == []
    assert SigmaDetector([]).detect([web_event({"user_agent.original": "sqlmap"})]) == []
