"""Lists page with cursors (Link: rel=next), events search, suppressions and issued API keys."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import IncidentState, Severity, event_id, to_utc_iso
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, ANALYST, AUDITOR, BINHDINH, NOW, QUYNHON, T0, make_incident, ok


def walk(client: TestClient, url: str, headers: dict[str, str]) -> list[str]:
    seen: list[str] = []
    while url:
        response = client.get(url, headers=headers)
        seen += [item["id"] if "id" in item else item["event.id"] for item in ok(response)]
        link = response.headers.get("link")
        url = link[1:link.index(">")] if link else ""
    return seen


def test_incident_list_filters_sorts_and_pages(sqlite_client: TestClient, sqlite_store: Store) -> None:
    for n in range(7):
        incident = make_incident(f"BDH-{n}", "binhdinh" if n % 2 else "quynhon", minutes=n % 3)
        sqlite_store.create_incident(incident.model_copy(update={
            "severity": list(Severity)[n % 4], "state": IncidentState.closed if n == 6 else IncidentState.new}))
    everything = walk(sqlite_client, "/api/v1/incidents?limit=2", BINHDINH)
    assert everything == [i["id"] for i in ok(sqlite_client.get("/api/v1/incidents", headers=BINHDINH))]
    assert len(everything) == 7
    by_severity = walk(sqlite_client, "/api/v1/incidents?limit=3&sort=-severity&state=new", BINHDINH)
    assert by_severity == ["BDH-3", "BDH-2", "BDH-1", "BDH-5", "BDH-0", "BDH-4"]
    assert walk(sqlite_client, "/api/v1/incidents?severity=critical&severity=low", QUYNHON) == ["BDH-4", "BDH-0"]
    first = sqlite_client.get("/api/v1/incidents?limit=2&sort=created", headers=BINHDINH)
    cursor = first.headers["x-next-cursor"]
    wrong = sqlite_client.get(f"/api/v1/incidents?cursor={cursor}&sort=severity", headers=BINHDINH)
    assert ok(wrong, 422)["errors"][0]["field"] == "query.cursor"
    assert ok(sqlite_client.get("/api/v1/incidents?cursor=garbage!", headers=BINHDINH), 422)
    assert ok(sqlite_client.get("/api/v1/incidents?sort=colour", headers=BINHDINH), 422)["errors"][0]["field"] == \
        "query.sort"


def test_event_search_pages_and_filters(client: TestClient, store: Store) -> None:
    events = [{"@timestamp": to_utc_iso(T0 + timedelta(seconds=n)), "organization.id": agency,
               "event.id": event_id("s", n, line.encode()), "event.original": line, "source.ip": ip,
               "http.response.status_code": status}
              for n, (agency, line, ip, status) in enumerate([
                  ("quynhon", "GET /etc/passwd 404", "203.0.113.1", 404),
                  ("quynhon", "GET /index.php?id=1 UNION SELECT 200", "203.0.113.2", 200),
                  ("binhdinh", "GET /etc/passwd 404", "203.0.113.1", 404),
                  ("phuyen", "GET /etc/passwd 404", "203.0.113.1", 404)])]
    store.put_events(events)
    store.refresh()
    found = ok(client.get("/api/v1/events?q=passwd", headers=BINHDINH))
    assert [e["organization.id"] for e in found] == ["binhdinh", "quynhon"]
    assert len(walk(client, "/api/v1/events?q=passwd&limit=1", ANALYST)) == 3
    union = ok(client.get("/api/v1/events?q=union select&field=source.ip:203.0.113.2", headers=QUYNHON))
    assert [e["event.original"] for e in union] == ["GET /index.php?id=1 UNION SELECT 200"]
    status = ok(client.get("/api/v1/events?field=http.response.status_code:404&agency=quynhon", headers=ANALYST))
    assert len(status) == 1
    window = f"since={to_utc_iso(T0 + timedelta(seconds=1))}&until={to_utc_iso(T0 + timedelta(seconds=3))}"
    assert len(ok(client.get(f"/api/v1/events?{window}", headers=ANALYST))) == 2
    bad = client.get("/api/v1/events?field=no-colon", headers=ANALYST)
    assert ok(bad, 422)["errors"][0]["field"] == "query.field[0]"


def test_suppressions_are_audited_and_need_a_soc_role(sqlite_client: TestClient) -> None:
    body = {"rule_id": "web-scan", "agency": "quynhon", "entities": {"source.ip": "10.0.0.7"},
            "reason": "Máy quét lỗ hổng của Sở", "expires": (NOW + timedelta(days=7)).isoformat()}
    assert sqlite_client.post("/api/v1/suppressions", json=body, headers=QUYNHON).status_code == 403
    past = sqlite_client.post("/api/v1/suppressions", json=body | {"expires": "2020-01-01T00:00:00Z"}, headers=ANALYST)
    assert ok(past, 422)["errors"][0]["field"] == "body.expires"
    created = ok(sqlite_client.post("/api/v1/suppressions", json=body, headers=ANALYST), 201)
    assert created["author"] == "demo-soc-analyst" and created["revoked_at"] is None
    assert [s["id"] for s in ok(sqlite_client.get("/api/v1/suppressions", headers=QUYNHON))] == [created["id"]]
    revoked = ok(sqlite_client.delete(f"/api/v1/suppressions/{created['id']}", headers=ANALYST))
    assert revoked["revoked_by"] == "demo-soc-analyst"
    trail = ok(sqlite_client.get(f"/api/v1/audit?object_type=suppression&object_id={created['id']}",
                                 headers=AUDITOR))
    assert [e["action"] for e in trail] == ["create", "revoke"]
    assert trail[0]["after"]["reason"] == "Máy quét lỗ hổng của Sở"


def test_issued_keys_are_hashed_shown_once_and_revocable(sqlite_client: TestClient, sqlite_store: Store) -> None:
    body = {"name": "tich-hop-quynhon", "role": "agency_viewer", "agency": "quynhon"}
    assert sqlite_client.post("/api/v1/api-keys", json=body, headers=ANALYST).status_code == 403
    assert ok(sqlite_client.post("/api/v1/api-keys", json=body | {"agency": None}, headers=ADMIN), 422)
    issued = ok(sqlite_client.post("/api/v1/api-keys", json=body, headers=ADMIN), 201)
    key = issued["key"]
    stored = sqlite_store.list_api_keys()
    assert len(stored) == 1 and key not in stored[0].model_dump_json() and stored[0].sha256 != key
    me = ok(sqlite_client.get("/api/v1/me", headers={"X-API-Key": key}))
    assert (me["name"], me["role"], me["agency"]) == ("tich-hop-quynhon", "agency_viewer", "quynhon")
    listed = ok(sqlite_client.get("/api/v1/api-keys", headers=AUDITOR))
    assert "key" not in listed[-1] and {k["source"] for k in listed} == {"configuration", "api"}
    assert all("sha256" not in k for k in listed)
    ok(sqlite_client.delete(f"/api/v1/api-keys/{issued['id']}", headers=ADMIN))
    assert sqlite_client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    users = ok(sqlite_client.get("/api/v1/users", headers=ANALYST))
    assert [u["name"] for u in users] == ["lan.nguyen", "binh.tran"]
    assert sqlite_client.get("/api/v1/users", headers=QUYNHON).status_code == 403


def test_systems_and_rules(sqlite_client: TestClient) -> None:
    systems = ok(sqlite_client.get("/api/v1/systems", headers=QUYNHON))
    assert [s["id"] for s in systems] == ["cong-quynhon"] and systems[0]["security_level"] == 2
    rules = ok(sqlite_client.get("/api/v1/rules", headers=BINHDINH))
    assert len(rules) >= 5 and all(r["id"] and r["title"] for r in rules)
