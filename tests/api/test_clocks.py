"""Clocks with a frozen clock: SLA, the 5-day incident notice, the 72-hour breach notice counted from
detection (not from creation), the serious-incident report at once, late filings with their reason."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import Alert, Severity
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, NOW, FrozenClock, etag, ok, open_incident


def clocks_of(client: TestClient, number: str) -> dict[str, dict]:  # type: ignore[type-arg]
    body = ok(client.get(f"/api/v1/incidents/{number}", headers=ANALYST))
    return {c["kind"]: c for c in body["clocks"]}


def listed_overdue(client: TestClient, number: str) -> list[str]:
    [item] = [i for i in ok(client.get("/api/v1/incidents", headers=ANALYST)) if i["id"] == number]
    return item["overdue"]


def test_incident_notice_is_overdue_at_exactly_five_days(client: TestClient, clock: FrozenClock) -> None:
    number = open_incident(client, severity="low").json()["id"]
    notice = clocks_of(client, number)["incident_notice"]
    assert notice["due"] == "2026-11-28T02:00:00Z" and notice["status"] == "pending"
    clock.advance(days=5, seconds=-1)
    assert clocks_of(client, number)["incident_notice"]["overdue"] is False
    assert "incident_notice" not in listed_overdue(client, number)
    clock.advance(seconds=1)
    assert clocks_of(client, number)["incident_notice"]["status"] == "overdue"
    assert "incident_notice" in listed_overdue(client, number)

    current = client.get(f"/api/v1/incidents/{number}", headers=ANALYST)
    url = f"/api/v1/incidents/{number}/filings"
    headers = {**ANALYST, "If-Match": etag(current)}
    late = client.post(url, json={"kind": "incident_notice", "reference": "123/TB-SOC"}, headers=headers)
    assert ok(late, 422)["errors"][0]["field"] == "body.late_reason"
    filed = client.post(url, json={"kind": "incident_notice", "reference": "123/TB-SOC",
                                   "late_reason": "Chờ xác minh của chủ quản"}, headers=headers)
    body = ok(filed)
    assert body["filings"][0]["late"] is True and body["filings"][0]["late_reason"] == "Chờ xác minh của chủ quản"
    notice = {c["kind"]: c for c in body["clocks"]}["incident_notice"]
    assert notice["status"] == "late" and notice["done_at"] == "2026-11-28T02:00:00Z"


def test_on_time_filing_needs_no_reason(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client)
    clock.advance(days=4, hours=23)
    filed = client.post(f"/api/v1/incidents/{created.json()['id']}/filings", json={"kind": "incident_notice"},
                        headers={**ANALYST, "If-Match": etag(created)})
    assert {c["kind"]: c for c in ok(filed)["clocks"]}["incident_notice"]["status"] == "met"


def test_breach_clock_runs_from_detection_not_creation(client: TestClient, clock: FrozenClock) -> None:
    detected = NOW - timedelta(hours=48)
    created = open_incident(client, categories=["personal_data_leak"], detected_at=detected.isoformat())
    number = created.json()["id"]
    assert created.json()["created"] == "2026-11-23T02:00:00Z"
    breach = clocks_of(client, number)["breach_notice"]
    assert breach["due"] == "2026-11-24T02:00:00Z"  # detection + 72 h, i.e. creation + 24 h
    clock.advance(hours=24, seconds=-1)
    assert clocks_of(client, number)["breach_notice"]["status"] == "pending"
    clock.advance(seconds=1)
    assert clocks_of(client, number)["breach_notice"]["status"] == "overdue"
    future = client.post("/api/v1/incidents", headers=ANALYST, json={
        "agency": "quynhon", "title": "x", "severity": "low",
        "detected_at": (clock.now + timedelta(minutes=1)).isoformat()})
    assert ok(future, 422)["errors"][0]["field"] == "body.detected_at"


def test_alert_detection_time_starts_the_clocks(client: TestClient, clock: FrozenClock) -> None:
    detected = NOW - timedelta(hours=3)
    alert = Alert(id="al-1", rule_id="web-sqli", rule_title="SQL injection", severity=Severity.critical,
                  agency="quynhon", first_seen=detected - timedelta(minutes=5), last_seen=detected, created=detected)
    [change] = client.app.state.incidents.ingest_alerts([alert])  # type: ignore[attr-defined]
    clocks = clocks_of(client, change.incident.id)
    assert clocks["acknowledge"]["due"] == "2026-11-22T23:15:00Z"  # critical: 15 minutes after detection
    assert clocks["acknowledge"]["status"] == "overdue" and clocks["resolve"]["status"] == "pending"
    assert clocks["incident_notice"]["due"] == "2026-11-27T23:00:00Z"


def test_serious_incident_report_is_due_at_once(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client, agency="vpcp", system="cdvc", categories=["outage"])
    assert created.json()["overdue"] == ["serious_initial_report"]
    filed = client.post(f"/api/v1/incidents/{created.json()['id']}/filings", json={
        "kind": "serious_initial_report", "late_reason": "Báo cáo qua điện thoại trước"},
        headers={**ANALYST, "If-Match": etag(created)})
    assert ok(filed)["overdue"] == []


def test_sla_acknowledge_and_false_positive_exemption(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client, severity="critical")
    number = created.json()["id"]
    clock.advance(minutes=15)
    assert listed_overdue(client, number) == ["acknowledge"]
    clock.advance(minutes=5)
    acked = client.post(f"/api/v1/incidents/{number}/transition", json={"state": "acknowledged"},
                        headers={**ANALYST, "If-Match": etag(created)})
    ack = {c["kind"]: c for c in ok(acked)["clocks"]}["acknowledge"]
    assert ack["status"] == "late" and acked.json()["time_to_acknowledge_seconds"] == 1200
    closed = client.post(f"/api/v1/incidents/{number}/transition",
                         json={"state": "closed", "resolution": "false_positive"},
                         headers={**ANALYST, "If-Match": etag(acked)})
    kinds = {c["kind"] for c in ok(closed)["clocks"]}
    assert kinds == {"acknowledge", "resolve"}  # no notice is due for a false positive
