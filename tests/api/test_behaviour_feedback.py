"""Marking a behaviour alert as expected work through POST /api/v1/alerts/{id}/feedback, on both stores: the
feedback record, its audit entry, the optional suppression (created, audited and effective), the scope, and
422s naming the field for bad bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from canhgac.core.model import Alert, Severity, to_utc_iso
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, AUDITOR, BINHDINH, NOW, QUYNHON, ok

VOLUME = "canhgac-behaviour-volume"
OFFICIAL = "nguyen.thi.lan"
PEAK = "đợt cao điểm cấp đổi giấy tờ"


def behaviour_alert(alert_id: str, *, agency: str = "quynhon", user: str = OFFICIAL, hours_ago: int = 3) -> Alert:
    start = NOW - timedelta(hours=hours_ago)
    end = start + timedelta(hours=1)
    details: dict[str, Any] = {
        "entity": {"kind": "official", "id": user, "name": "Nguyễn Thị Lan", "unit": "000.11.31.H08", "role": None,
                   "system": None},
        "window": {"start": to_utc_iso(start), "end": to_utc_iso(end), "size": "hour"},
        "findings": [{"feature": "exports", "value": 1240, "baseline_mean": 30.0, "baseline_std": 12.0,
                      "peer_median": 25.0, "z": 100.8, "ratio": 41.3}],
        "explanation_vi": f"Cán bộ {user} đã xuất 1.240 hồ sơ trong 1 giờ; mức thường 30 ± 12",
        "explanation_en": f"Official {user} exported 1,240 dossiers in 1 hour; usual 30 ± 12",
        "series": {"feature": "exports", "step": "hour", "points": []}, "feedback": None}
    return Alert(id=alert_id, detector="behaviour", rule_id=VOLUME, rule_title="Far more dossiers than normal",
                 grouping="user", severity=Severity.high, agency=agency, system="motcua-quynhon",
                 entities={"user.name": user}, first_seen=start, last_seen=end, count=1240, details=details,
                 created=NOW)


def sigma_alert(alert_id: str) -> Alert:
    return Alert(id=alert_id, rule_id="web-sqli", rule_title="SQLi", severity=Severity.high, agency="quynhon",
                 entities={"source.ip": "203.0.113.9"}, first_seen=NOW, last_seen=NOW, created=NOW)


def ingest(client: TestClient, store: Store, *alerts: Alert) -> list[Any]:
    store.put_alerts(alerts)
    changes = client.app.state.incidents.ingest_alerts(alerts)  # type: ignore[attr-defined]
    store.refresh()
    return changes


@pytest.fixture
def seeded(client: TestClient, store: Store) -> TestClient:
    ingest(client, store, behaviour_alert("bh-1"), behaviour_alert("bh-py", agency="phuyen"), sigma_alert("sg-1"))
    return client


def feedback(client: TestClient, alert_id: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post(f"/api/v1/alerts/{alert_id}/feedback", json={"verdict": "expected", "reason": PEAK} | body,
                       headers=headers or ANALYST)


def test_marking_expected_work_is_stored_shown_and_audited(seeded: TestClient, store: Store) -> None:
    record = ok(feedback(seeded, "bh-1", learn=True))
    assert record["alert_id"] == "bh-1" and record["reason"] == PEAK and record["learn"] is True
    assert record["actor"] == "demo-soc-analyst" and record["suppress_until"] is None
    assert record["suppression_id"] is None
    store.refresh()
    shown = ok(seeded.get("/api/v1/alerts/bh-1", headers=ANALYST))
    assert shown["details"]["feedback"]["reason"] == PEAK
    [incident] = [i for i in ok(seeded.get("/api/v1/incidents?agency=quynhon", headers=ANALYST))
                  if i["rule_id"] == VOLUME]
    detail = ok(seeded.get(f"/api/v1/incidents/{incident['id']}", headers=ANALYST))
    in_detail = {a["id"]: a for a in detail["alerts"]}
    assert in_detail["bh-1"]["details"]["feedback"]["reason"] == PEAK
    audit = ok(seeded.get("/api/v1/audit?object_type=alert&object_id=bh-1", headers=ANALYST))
    assert [(e["action"], e["actor"], e["agency"]) for e in audit] == [("mark_expected", "demo-soc-analyst",
                                                                        "quynhon")]
    assert audit[0]["after"]["reason"] == PEAK and audit[0]["before"] is None
    assert ok(seeded.get("/api/v1/suppressions", headers=ANALYST)) == []


def test_a_suppression_keeps_the_same_account_from_opening_incidents(seeded: TestClient, store: Store) -> None:
    record = ok(feedback(seeded, "bh-1", suppress_days=7))
    assert record["suppression_id"]
    assert record["suppress_until"].startswith(to_utc_iso(NOW + timedelta(days=7))[:16])
    store.refresh()
    suppression = ok(seeded.get(f"/api/v1/suppressions/{record['suppression_id']}", headers=ANALYST))
    assert suppression["rule_id"] == VOLUME and suppression["agency"] == "quynhon"
    assert suppression["entities"] == {"user.name": OFFICIAL} and PEAK in suppression["reason"]
    assert suppression["author"] == "demo-soc-analyst"
    audit = ok(seeded.get(f"/api/v1/audit?object_type=suppression&object_id={record['suppression_id']}",
                          headers=ANALYST))
    assert [e["action"] for e in audit] == ["create"]
    # the next hour's alert of the same rule and account opens nothing; another official's still does
    assert ingest(seeded, store, behaviour_alert("bh-2", hours_ago=1)) == []
    changes = ingest(seeded, store, behaviour_alert("bh-3", user="tran.van.binh", hours_ago=1))
    assert [c.incident.alert_ids for c in changes] == [["bh-3"]]


def test_an_api_clients_suppression_names_its_calling_system(client: TestClient, store: Store) -> None:
    scraper = behaviour_alert("bh-client", user="svc-hotich")
    scraper = scraper.model_copy(update={"entities": {"user.name": "svc-hotich", "egov.caller.system": "lgsp-hotich"}})
    ingest(client, store, scraper)
    record = ok(feedback(client, "bh-client", suppress_days=1))
    store.refresh()
    suppression = ok(client.get(f"/api/v1/suppressions/{record['suppression_id']}", headers=ANALYST))
    assert suppression["entities"] == {"user.name": "svc-hotich", "egov.caller.system": "lgsp-hotich"}


def test_agency_staff_mark_only_within_their_subtree(seeded: TestClient) -> None:
    assert feedback(seeded, "bh-py", QUYNHON).status_code == 404
    refused = feedback(seeded, "bh-1", QUYNHON, suppress_days=3)  # suppressing is the SOC's
    assert refused.status_code == 403 and "body.suppress_days" in refused.json()["detail"]
    assert ok(feedback(seeded, "bh-1", QUYNHON, learn=False))["learn"] is False
    assert feedback(seeded, "bh-1", BINHDINH).status_code == 403  # agency_viewer: read-only
    assert feedback(seeded, "bh-1", AUDITOR).status_code == 403
    assert seeded.get("/api/v1/alerts/bh-py", headers=QUYNHON).status_code == 404
    assert seeded.get("/api/v1/alerts/bh-py", headers=ANALYST).status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": None}, "body.reason"),
    ({"reason": ""}, "body.reason"),
    ({"reason": "   "}, "body.reason"),
    ({"reason": "x" * 501}, "body.reason"),
    ({"verdict": None}, "body.verdict"),
    ({"verdict": "malicious"}, "body.verdict"),
    ({"suppress_days": 91}, "body.suppress_days"),
    ({"suppress_days": -1}, "body.suppress_days"),
    ({"suppress_days": "mãi mãi"}, "body.suppress_days"),
    ({"learn": "có lẽ"}, "body.learn"),
    ({"until": "2027-01-01T00:00:00Z"}, "body.until"),
])
def test_bad_bodies_are_422s_naming_the_field(seeded: TestClient, body: dict[str, Any], field: str) -> None:
    sent = {"verdict": "expected", "reason": PEAK} | body
    response = seeded.post("/api/v1/alerts/bh-1/feedback", json={k: v for k, v in sent.items() if v is not None},
                           headers=ANALYST)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_only_behaviour_alerts_take_this_feedback_and_only_once(seeded: TestClient) -> None:
    refused = feedback(seeded, "sg-1")
    assert refused.status_code == 409
    assert "behaviour" in refused.json()["detail"]
    assert feedback(seeded, "no-such-alert").status_code == 404
    ok(feedback(seeded, "bh-1"))
    again = feedback(seeded, "bh-1", reason="lần nữa", suppress_days=1)
    assert again.status_code == 409 and "already marked" in again.json()["detail"]


def test_the_rule_catalog_explains_behaviour_rules_in_both_languages(sqlite_client: TestClient) -> None:
    rule = ok(sqlite_client.get(f"/api/v1/rules/{VOLUME}", headers=ANALYST))
    assert rule["detector"] == "behaviour" and rule["title_vi"] and rule["description_vi"]
    for text in ("tạm khóa tài khoản", "gọi điện xác minh với cán bộ", "kiểm tra nơi nhận tệp đã xuất", "LGSP/NGSP"):
        assert text.lower() in rule["response_vi"].lower(), text
    assert "the account" in rule["response"] and "LGSP/NGSP" in rule["response"]
    listed = {r["id"] for r in ok(sqlite_client.get("/api/v1/rules", headers=ANALYST))}
    assert {VOLUME, "canhgac-behaviour-drift", "canhgac-behaviour-enumeration", "canhgac-behaviour-scope",
            "canhgac-behaviour-off-hours"} <= listed
