"""The tenancy matrix, on both stores: every route × every role, aimed at an agency outside the caller's
subtree (Phú Yên). Agency roles get 403 or 404 and never a byte of Phú Yên's data; nothing foreign changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.core.model import Alert, AuditEntry, Severity, Suppression, event_id, to_utc_iso
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import NOW, ROLES, FrozenClock

MARKERS = ("MARKER-PY", "198.51.100.66", "Phú Yên", "dvc-phuyen", "PYN-2026", "songhinh")
FOREIGN_ID = "PYN-2026-000001"
FOREIGN_EVENT = event_id("/var/log/py.log", 1, b"x")
WRITE_OK = {"soc_admin", "soc_analyst"}


@pytest.fixture
def world(settings: Settings, store: Store) -> Iterator[tuple[TestClient, Store]]:
    app = create_app(settings, store, clock=FrozenClock(NOW))
    service = app.state.incidents
    alerts = [Alert(id=f"al-{agency}", rule_id="web-sqli", rule_title=f"SQLi {tag}", severity=Severity.high,
                    agency=agency, system=system, entities={"source.ip": ip}, first_seen=NOW, last_seen=NOW,
                    created=NOW, tags=["attack.t1190"])
              for agency, system, ip, tag in (("phuyen", "dvc-phuyen", "198.51.100.66", "MARKER-PY"),
                                              ("quynhon", "cong-quynhon", "203.0.113.4", "QN"))]
    store.put_alerts(alerts)
    service.ingest_alerts(alerts)
    store.put_events([{"@timestamp": to_utc_iso(NOW), "event.id": FOREIGN_EVENT, "organization.id": "phuyen",
                       "event.original": "GET /MARKER-PY from 198.51.100.66", "source.ip": "198.51.100.66"}])
    store.put_suppression(Suppression(id="SUP-PY", agency="phuyen", reason="MARKER-PY", author="x", created=NOW,
                                      expires=NOW + timedelta(days=1)))
    store.append_audit(AuditEntry(id="audit-py", at=NOW, actor="x", action="note", object_type="incident",
                                  object_id=FOREIGN_ID, agency="phuyen", after={"note": "MARKER-PY"}))
    store.refresh()
    with TestClient(app) as client:
        yield client, store


FOREIGN = f"/api/v1/incidents/{FOREIGN_ID}"
BODY = {"title": "MARKER-X", "severity": "low"}
#: (method, route path) → requests aimed at Phú Yên; each (path with query, JSON body or None).
MATRIX: dict[tuple[str, str], list[tuple[str, Any]]] = {
    ("GET", "/api/v1/health"): [("/api/v1/health", None)],
    ("GET", "/api/v1/me"): [("/api/v1/me", None)],
    ("GET", "/api/v1/agencies"): [("/api/v1/agencies", None)],
    ("GET", "/api/v1/systems"): [("/api/v1/systems", None)],
    ("GET", "/api/v1/incidents"): [("/api/v1/incidents", None), ("/api/v1/incidents?agency=phuyen", None),
                                   ("/api/v1/incidents?system=dvc-phuyen", None)],
    ("POST", "/api/v1/incidents"): [("/api/v1/incidents", {"agency": "phuyen", **BODY})],
    ("GET", "/api/v1/incidents/{incident_id}"): [(FOREIGN, None)],
    ("PATCH", "/api/v1/incidents/{incident_id}"): [(FOREIGN, {"title": "MARKER-X"})],
    ("POST", "/api/v1/incidents/{incident_id}/transition"): [(f"{FOREIGN}/transition", {"state": "acknowledged"})],
    ("POST", "/api/v1/incidents/{incident_id}/reopen"): [(f"{FOREIGN}/reopen", {"reason": "x"})],
    ("POST", "/api/v1/incidents/{incident_id}/comments"): [(f"{FOREIGN}/comments", {"text": "x"})],
    ("POST", "/api/v1/incidents/{incident_id}/tasks"): [(f"{FOREIGN}/tasks", {"title": "x"})],
    ("PATCH", "/api/v1/incidents/{incident_id}/tasks/{task_id}"): [(f"{FOREIGN}/tasks/t-1", {"state": "done"})],
    ("POST", "/api/v1/incidents/{incident_id}/observables"): [(f"{FOREIGN}/observables",
                                                               {"type": "ip", "value": "192.0.2.1"})],
    ("DELETE", "/api/v1/incidents/{incident_id}/observables/{observable_id}"): [(f"{FOREIGN}/observables/o-1", None)],
    ("POST", "/api/v1/incidents/{incident_id}/serious"): [(f"{FOREIGN}/serious", {"serious": True, "reason": "x"})],
    ("POST", "/api/v1/incidents/{incident_id}/filings"): [(f"{FOREIGN}/filings", {"kind": "incident_notice"})],
    ("POST", "/api/v1/incidents/{incident_id}/merge"): [(f"{FOREIGN}/merge", {"source_ids": ["QNN-2026-000001"]}),
                                                        ("/api/v1/incidents/QNN-2026-000001/merge",
                                                         {"source_ids": [FOREIGN_ID]})],
    ("POST", "/api/v1/incidents/{incident_id}/split"): [(f"{FOREIGN}/split", {"alert_ids": ["al-phuyen"]})],
    ("GET", "/api/v1/incidents/{incident_id}/reports/incident-notice"): [
        (f"{FOREIGN}/reports/incident-notice", None), (f"{FOREIGN}/reports/incident-notice?format=html", None)],
    ("GET", "/api/v1/incidents/{incident_id}/reports/breach-notice"): [(f"{FOREIGN}/reports/breach-notice", None)],
    ("GET", "/api/v1/alerts"): [("/api/v1/alerts", None), ("/api/v1/alerts?agency=phuyen", None)],
    ("GET", "/api/v1/alerts/{alert_id}"): [("/api/v1/alerts/al-phuyen", None)],
    ("POST", "/api/v1/alerts/{alert_id}/feedback"): [("/api/v1/alerts/al-phuyen/feedback",
                                                      {"verdict": "expected", "reason": "MARKER-X"})],
    ("GET", "/api/v1/events"): [("/api/v1/events", None), ("/api/v1/events?q=MARKER-PY", None),
                                ("/api/v1/events?field=organization.id:phuyen", None),
                                ("/api/v1/events?agency=phuyen", None)],
    ("GET", "/api/v1/events/{event_id}"): [(f"/api/v1/events/{FOREIGN_EVENT}", None)],
    ("GET", "/api/v1/posture"): [("/api/v1/posture", None), ("/api/v1/posture?agency=phuyen", None)],
    ("GET", "/api/v1/posture/ranking"): [("/api/v1/posture/ranking", None),
                                         ("/api/v1/posture/ranking?level=district", None)],
    ("GET", "/api/v1/reports/monitoring"): [("/api/v1/reports/monitoring?day=2026-11-23", None),
                                            ("/api/v1/reports/monitoring?agency=phuyen", None),
                                            ("/api/v1/reports/monitoring?period=weekly&format=html&day=2026-11-23",
                                             None)],
    ("GET", "/api/v1/suppressions"): [("/api/v1/suppressions", None)],
    ("POST", "/api/v1/suppressions"): [("/api/v1/suppressions", {"agency": "phuyen", "reason": "x",
                                                                 "expires": "2026-12-30T00:00:00Z"})],
    ("GET", "/api/v1/suppressions/{suppression_id}"): [("/api/v1/suppressions/SUP-PY", None)],
    ("DELETE", "/api/v1/suppressions/{suppression_id}"): [("/api/v1/suppressions/SUP-PY", None)],
    ("GET", "/api/v1/rules"): [("/api/v1/rules", None)],
    ("GET", "/api/v1/rules/{rule_id}"): [("/api/v1/rules/web-sqli", None)],
    ("GET", "/api/v1/attack"): [("/api/v1/attack", None)],
    ("GET", "/api/v1/overview"): [("/api/v1/overview", None), ("/api/v1/overview?agency=phuyen", None)],
    ("GET", "/api/v1/events/histogram"): [("/api/v1/events/histogram", None),
                                          ("/api/v1/events/histogram?q=MARKER-PY", None),
                                          ("/api/v1/events/histogram?agency=phuyen", None)],
    ("POST", "/api/v1/incidents/bulk"): [("/api/v1/incidents/bulk", {"ids": [FOREIGN_ID], "action": "assign",
                                                                     "assignee": "MARKER-X", "reason": "x"})],
    ("GET", "/api/v1/audit"): [("/api/v1/audit", None), (f"/api/v1/audit?object_id={FOREIGN_ID}", None)],
    ("GET", "/api/v1/users"): [("/api/v1/users", None)],
    ("GET", "/api/v1/api-keys"): [("/api/v1/api-keys", None)],
    ("POST", "/api/v1/api-keys"): [("/api/v1/api-keys", {"name": "MARKER-X", "role": "agency_viewer",
                                                         "agency": "phuyen"})],
    ("DELETE", "/api/v1/api-keys/{key_id}"): [("/api/v1/api-keys/key-nope", None)],
    ("GET", "/api/v1/sources"): [("/api/v1/sources", None)],
    ("GET", "/api/v1/sources/chat"): [("/api/v1/sources/chat", None)],
    ("POST", "/api/v1/slack/interactions"): [("/api/v1/slack/interactions", None)],
    ("POST", "/api/v1/slack/commands"): [("/api/v1/slack/commands", None)],
    ("POST", "/api/v1/ingest"): [("/api/v1/ingest", None)],
    ("POST", "/api/v1/ingest/es/_bulk"): [("/api/v1/ingest/es/_bulk", None)],
}
#: Log push takes a system's push token, never a user's key: a user's key pushes nothing (503 here, where the
#: app runs without the collection service).
PUSH = {"/api/v1/ingest", "/api/v1/ingest/es/_bulk"}
#: Slack's routes take Slack's signature, never a user's key: without it they answer 401 and change nothing.
SIGNED = {"/api/v1/slack/interactions", "/api/v1/slack/commands"}
#: Routes whose answer holds no agency data at all: the same for every caller.
UNSCOPED = {"/api/v1/health", "/api/v1/rules", "/api/v1/me", "/api/v1/attack"}
#: Answers per item: a writer gets 200 and, for each foreign incident, the 404 the single action would give
#: (the answer repeats the ids the caller sent, nothing more).
PER_ITEM = {"/api/v1/incidents/bulk"}


def test_the_matrix_covers_every_route(settings: Settings, sqlite_store: Store) -> None:
    app = create_app(settings, sqlite_store)
    routes = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
              for method in operations}
    assert routes == set(MATRIX)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_route_gives_an_agency_role_foreign_data(world: tuple[TestClient, Store], role: str) -> None:
    client, store = world
    before = store.get_incident(FOREIGN_ID)
    assert before is not None
    headers = {**ROLES[role], "If-Match": "*"}
    agency_role = role.startswith("agency_")
    for (method, route), requests in MATRIX.items():
        for path, body in requests:
            response = client.request(method, path, json=body, headers=headers)
            where = f"{role} {method} {path}"
            if route in PUSH | SIGNED:
                assert response.status_code in (401, 403, 503), where
                continue
            assert response.status_code < 500, where
            if agency_role and route in PER_ITEM and response.status_code == 200:
                assert [r["status"] for r in response.json()["results"]] == [404], where
                for marker in MARKERS:
                    assert marker not in response.text.replace(FOREIGN_ID, ""), f"{where} leaks {marker}"
                continue
            if agency_role:
                if method != "GET" or "{" in route or "agency=phuyen" in path:
                    assert response.status_code in (403, 404), where
                for marker in MARKERS:
                    assert marker not in response.text, f"{where} leaks {marker}"
            elif role == "auditor" and method != "GET":
                assert response.status_code == 403, where
    if role not in WRITE_OK:
        after = store.get_incident(FOREIGN_ID)
        assert after is not None and after.version == before.version and after.title == before.title
        assert store.get_suppression("SUP-PY") is not None and store.get_suppression("SUP-PY").revoked_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["agency_responder", "agency_viewer"])
def test_agency_roles_still_see_their_own(world: tuple[TestClient, Store], role: str) -> None:
    client, _ = world
    headers = ROLES[role]
    assert [i["id"] for i in client.get("/api/v1/incidents", headers=headers).json()] == ["QNN-2026-000001"]
    assert client.get("/api/v1/incidents/QNN-2026-000001", headers=headers).status_code == 200
    assert client.get("/api/v1/posture", headers=headers).json()["open_total"] == 1
    assert [a["id"] for a in client.get("/api/v1/alerts", headers=headers).json()] == ["al-quynhon"]
