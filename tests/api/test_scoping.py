"""What each caller sees, on every store backend: scoping happens in the store queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from canhgac.core.model import Alert, AuditEntry, IncidentState, Severity, event_id, to_utc_iso
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import ANALYST, BINHDINH, QUYNHON, T0, make_incident

AGENCIES = {"BDH-1": "binhdinh", "QNN-1": "quynhon", "QNTP-1": "quynhon-tranphu", "PYN-1": "phuyen",
            "SHH-1": "songhinh"}


@pytest.fixture
def seeded(store: Store) -> Store:
    for minutes, (incident_id, agency) in enumerate(AGENCIES.items()):
        store.create_incident(make_incident(incident_id, agency, minutes=minutes))
    return store


def ids(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def test_agency_viewer_sees_its_subtree_including_merged_children(client: TestClient, seeded: Store) -> None:
    assert set(ids(client.get("/api/v1/incidents", headers=BINHDINH))) == {"BDH-1", "QNN-1", "QNTP-1"}


def test_district_responder_sees_only_its_own_subtree(client: TestClient, seeded: Store) -> None:
    assert set(ids(client.get("/api/v1/incidents", headers=QUYNHON))) == {"QNN-1", "QNTP-1"}


def test_soc_analyst_sees_everything_newest_activity_first(client: TestClient, seeded: Store) -> None:
    assert ids(client.get("/api/v1/incidents", headers=ANALYST)) == ["SHH-1", "PYN-1", "QNTP-1", "QNN-1", "BDH-1"]


def test_incident_outside_the_subtree_is_404_like_a_missing_one(client: TestClient, seeded: Store) -> None:
    outside = client.get("/api/v1/incidents/PYN-1", headers=BINHDINH)
    missing = client.get("/api/v1/incidents/NO-SUCH-1", headers=BINHDINH)
    assert outside.status_code == missing.status_code == 404
    assert outside.headers["content-type"] == "application/problem+json"
    assert outside.json() == missing.json()
    assert "phuyen" not in outside.text and "PYN" not in outside.text
    assert client.get("/api/v1/incidents/BDH-1", headers=QUYNHON).status_code == 404
    assert client.get("/api/v1/incidents/PYN-1", headers=ANALYST).status_code == 200


def test_incident_detail_has_names_version_etag_and_audit(client: TestClient, seeded: Store) -> None:
    seeded.append_audit(AuditEntry(id="a1", at=T0, actor="demo-quynhon", action="incident.acknowledge",
                                   object_type="incident", object_id="QNN-1", agency="quynhon",
                                   before={"state": "new"}, after={"state": "acknowledged"}))
    seeded.append_audit(AuditEntry(id="a2", at=T0, actor="soc", action="incident.note", object_type="incident",
                                   object_id="PYN-1", agency="phuyen"))
    seeded.refresh()
    response = client.get("/api/v1/incidents/QNN-1", headers=BINHDINH)
    assert response.status_code == 200
    body = response.json()
    assert body["agency"] == "quynhon"
    assert body["agency_name_vi"] == "Ủy ban nhân dân thành phố Quy Nhơn"
    assert body["agency_name_en"] == "Quy Nhon City People's Committee"
    assert body["state"] == "new" and body["severity"] == "high"
    assert body["version"] and response.headers["etag"] == f'"{body["version"]}"'
    assert [entry["id"] for entry in body["audit"]] == ["a1"]
    assert body["audit"][0]["after"] == {"state": "acknowledged"}
    assert body["alerts"] == []


def test_list_versions_follow_updates(client: TestClient, seeded: Store) -> None:
    incident = seeded.get_incident("BDH-1")
    assert incident is not None and incident.version is not None
    updated = seeded.update_incident(incident.model_copy(update={"state": IncidentState.acknowledged}),
                                     expected_version=incident.version)
    seeded.refresh()
    [listed] = [i for i in client.get("/api/v1/incidents", headers=BINHDINH).json() if i["id"] == "BDH-1"]
    assert listed["state"] == "acknowledged" and listed["version"] == updated.version
    assert client.get("/api/v1/incidents/BDH-1", headers=BINHDINH).headers["etag"] == f'"{updated.version}"'


def test_state_filter_is_repeatable(client: TestClient, store: Store) -> None:
    store.create_incident(make_incident("BDH-1", "binhdinh", state=IncidentState.new))
    store.create_incident(make_incident("BDH-2", "binhdinh", state=IncidentState.contained, minutes=1))
    store.create_incident(make_incident("BDH-3", "binhdinh", state=IncidentState.closed, minutes=2))
    assert ids(client.get("/api/v1/incidents?state=closed", headers=BINHDINH)) == ["BDH-3"]
    assert ids(client.get("/api/v1/incidents?state=new&state=contained", headers=BINHDINH)) == ["BDH-2", "BDH-1"]
    assert ids(client.get("/api/v1/incidents?limit=1", headers=BINHDINH)) == ["BDH-3"]


def test_agency_filter_narrows_within_the_scope(client: TestClient, seeded: Store) -> None:
    assert set(ids(client.get("/api/v1/incidents?agency=quynhon", headers=BINHDINH))) == {"QNN-1", "QNTP-1"}
    assert set(ids(client.get("/api/v1/incidents?agency=phuyen", headers=ANALYST))) == {"PYN-1", "SHH-1"}
    # The merged province's successor includes it.
    assert set(ids(client.get("/api/v1/incidents?agency=daklak", headers=ANALYST))) == {"PYN-1", "SHH-1"}


@pytest.mark.parametrize(("headers", "agency"), [(BINHDINH, "phuyen"), (QUYNHON, "binhdinh"), (BINHDINH, "gialai")])
def test_agency_filter_outside_the_scope_is_404(client: TestClient, seeded: Store, headers: dict[str, str],
                                                agency: str) -> None:
    for path in ("/api/v1/incidents", "/api/v1/alerts"):
        response = client.get(path, params={"agency": agency}, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def make_alert(alert_id: str, agency: str, *, severity: Severity = Severity.high, minutes: float = 0,
               event_ids: list[str] | None = None) -> Alert:
    seen = T0 + timedelta(minutes=minutes)
    return Alert(id=alert_id, rule_id="web-scan", rule_title="Dò quét lỗ hổng", severity=severity, agency=agency,
                 entities={"source.ip": "203.0.113.5"}, first_seen=seen, last_seen=seen, event_ids=event_ids or [])


def test_alerts_are_scoped_and_filtered(client: TestClient, store: Store) -> None:
    store.put_alerts([make_alert("al-bd", "binhdinh", severity=Severity.low),
                      make_alert("al-qn", "quynhon", minutes=1),
                      make_alert("al-py", "phuyen", severity=Severity.critical, minutes=2)])
    store.refresh()
    assert ids(client.get("/api/v1/alerts", headers=BINHDINH)) == ["al-qn", "al-bd"]
    assert ids(client.get("/api/v1/alerts", headers=QUYNHON)) == ["al-qn"]
    assert ids(client.get("/api/v1/alerts", headers=ANALYST)) == ["al-py", "al-qn", "al-bd"]
    assert ids(client.get("/api/v1/alerts?min_severity=high", headers=BINHDINH)) == ["al-qn"]
    assert ids(client.get("/api/v1/alerts?agency=phuyen", headers=ANALYST)) == ["al-py"]
    assert ids(client.get("/api/v1/alerts?rule_id=other", headers=ANALYST)) == []


def make_event(n: int, agency: str) -> dict[str, object]:
    raw = f'203.0.113.5 - - "GET /<script>alert({n})</script> HTTP/1.1" 404'
    return {"@timestamp": to_utc_iso(T0), "event.id": event_id("/var/log/nginx/access.log", n, raw.encode()),
            "event.original": raw, "event.kind": "event", "organization.id": agency, "source.ip": "203.0.113.5"}


def test_events_are_scoped(client: TestClient, store: Store) -> None:
    inside, outside = make_event(1, "quynhon-tranphu"), make_event(2, "phuyen")
    store.put_events([inside, outside])
    store.refresh()
    response = client.get(f"/api/v1/events/{inside['event.id']}", headers=BINHDINH)
    assert response.status_code == 200
    assert response.json() == inside
    denied = client.get(f"/api/v1/events/{outside['event.id']}", headers=BINHDINH)
    assert denied.status_code == 404 and denied.headers["content-type"] == "application/problem+json"
    assert denied.json() == client.get("/api/v1/events/no-such-event", headers=BINHDINH).json()
    assert client.get(f"/api/v1/events/{outside['event.id']}", headers=ANALYST).status_code == 200


def test_incident_detail_lists_its_alerts_for_evidence(client: TestClient, store: Store) -> None:
    event = make_event(1, "quynhon")
    store.put_events([event])
    store.put_alerts([make_alert("al-1", "quynhon", minutes=0, event_ids=[str(event["event.id"])]),
                      make_alert("al-2", "quynhon", minutes=5),
                      make_alert("al-other", "quynhon", minutes=3)])
    store.refresh()
    incident = make_incident("QNN-1", "quynhon", alert_ids=["al-1", "al-2"])
    store.create_incident(incident.model_copy(update={"last_seen": T0 + timedelta(minutes=5)}))
    body = client.get("/api/v1/incidents/QNN-1", headers=QUYNHON).json()
    assert sorted(alert["id"] for alert in body["alerts"]) == ["al-1", "al-2"]
    [with_events] = [alert for alert in body["alerts"] if alert["event_ids"]]
    evidence = client.get(f"/api/v1/events/{with_events['event_ids'][0]}", headers=QUYNHON)
    assert evidence.json()["event.original"] == event["event.original"]
