"""POST /incidents/bulk: each incident through the lifecycle rules, audited with the reason, per-item results."""

from __future__ import annotations

from canhgac.core.model import IncidentState
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, QUYNHON, make_incident, ok


def seed(store: Store) -> None:
    for n, agency in enumerate(["quynhon", "quynhon", "phuyen", "quynhon"]):
        state = IncidentState.closed if n == 3 else IncidentState.new
        store.create_incident(make_incident(f"INC-{n}", agency, minutes=n, state=state))
    store.refresh()


def test_bulk_acknowledge_reports_each_incident(client: TestClient, store: Store) -> None:
    seed(store)
    body = {"ids": ["INC-0", "INC-1", "INC-2", "INC-3", "INC-9", "INC-0"], "action": "acknowledge",
            "reason": "Đã xem, đang điều tra"}
    results = ok(client.post("/api/v1/incidents/bulk", json=body, headers=QUYNHON))["results"]
    assert [(r["id"], r["ok"], r["status"]) for r in results] == [
        ("INC-0", True, 200), ("INC-1", True, 200), ("INC-2", False, 404), ("INC-3", False, 422),
        ("INC-9", False, 404)]
    assert results[0]["version"] and results[3]["detail"].startswith("body.state")
    detail = client.get("/api/v1/incidents/INC-0", headers=QUYNHON)
    assert ok(detail)["state"] == "acknowledged" and detail.headers["etag"].strip('"') == results[0]["version"]
    assert ok(detail)["history"][-1]["reason"] == "Đã xem, đang điều tra"
    entry = ok(detail)["audit"][-1]
    assert entry["action"] == "transition:acknowledged" and entry["actor"] == "demo-quynhon"
    assert entry["after"]["reason"] == "Đã xem, đang điều tra" and entry["after"]["bulk"] is True
    assert ok(client.get("/api/v1/incidents/INC-2", headers=ANALYST))["state"] == "new"


def test_bulk_assign_and_close(client: TestClient, store: Store) -> None:
    seed(store)
    assigned = ok(client.post("/api/v1/incidents/bulk", json={
        "ids": ["INC-0", "INC-2"], "action": "assign", "assignee": "lan.nguyen", "reason": "phân công ca trực"},
        headers=ANALYST))["results"]
    assert all(r["ok"] for r in assigned)
    store.refresh()
    assert len(ok(client.get("/api/v1/incidents?assignee=lan.nguyen", headers=ANALYST))) == 2
    audit = ok(client.get("/api/v1/incidents/INC-2", headers=ANALYST))["audit"][-1]
    assert audit["action"] == "update" and audit["before"]["assignee"] is None
    assert {k: audit["after"][k] for k in ("assignee", "reason", "bulk")} == \
        {"assignee": "lan.nguyen", "reason": "phân công ca trực", "bulk": True}
    closed = ok(client.post("/api/v1/incidents/bulk", json={
        "ids": ["INC-0", "INC-1"], "action": "close", "resolution": "false_positive", "reason": "máy quét nội bộ"},
        headers=ANALYST))["results"]
    assert [r["ok"] for r in closed] == [True, True]
    incident = ok(client.get("/api/v1/incidents/INC-1", headers=ANALYST))
    assert (incident["state"], incident["resolution"]) == ("closed", "false_positive")


def test_bulk_refuses_bad_requests_as_a_whole(client: TestClient, store: Store) -> None:
    seed(store)
    url = "/api/v1/incidents/bulk"
    assert ok(client.post(url, json={"ids": ["INC-0"], "action": "acknowledge", "reason": "x"},
                          headers=BINHDINH), 403)
    missing = client.post(url, json={"ids": ["INC-0"], "action": "close", "reason": "x"}, headers=ANALYST)
    assert ok(missing, 422)["errors"][0]["field"] == "body.resolution"
    no_one = client.post(url, json={"ids": ["INC-0"], "action": "assign", "reason": "x"}, headers=ANALYST)
    assert ok(no_one, 422)["errors"][0]["field"] == "body.assignee"
    no_reason = client.post(url, json={"ids": ["INC-0"], "action": "acknowledge"}, headers=ANALYST)
    assert ok(no_reason, 422)["errors"][0]["field"] == "body.reason"
    too_many = client.post(url, json={"ids": [f"I-{n}" for n in range(201)], "action": "acknowledge",
                                      "reason": "x"}, headers=ANALYST)
    assert ok(too_many, 422)["errors"][0]["field"] == "body.ids"
    assert ok(client.get("/api/v1/incidents/INC-0", headers=ANALYST))["state"] == "new"
