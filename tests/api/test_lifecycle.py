"""The lifecycle through the API with a frozen clock: ETag/If-Match, transitions, audit, MTTA/MTTR, edits,
tasks, observables, merge and split."""

from __future__ import annotations

from canhgac.core.model import Alert, Severity
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, NOW, QUYNHON, FrozenClock, etag, ok, open_incident


def act(client: TestClient, incident_id: str, what: str, tag: str, body: dict, headers: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/api/v1/incidents/{incident_id}/{what}", json=body,
                       headers={**(headers or ANALYST), "If-Match": tag})


def test_lifecycle_with_etags_audit_and_times(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client)
    incident = created.json()
    number = incident["id"]
    assert number == "QNN-2026-000001" and created.headers["location"] == f"/api/v1/incidents/{number}"
    assert incident["state"] == "new" and incident["detected_at"] == "2026-11-23T02:00:00Z"
    first_tag = etag(created)
    assert client.get(f"/api/v1/incidents/{number}", headers=ANALYST).headers["etag"] == first_tag

    clock.advance(minutes=10)
    acked = act(client, number, "transition", first_tag, {"state": "acknowledged"}, QUYNHON)
    assert ok(acked)["state"] == "acknowledged" and etag(acked) != first_tag
    stale = act(client, number, "transition", first_tag, {"state": "investigating"})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    missing = client.post(f"/api/v1/incidents/{number}/transition", json={"state": "investigating"}, headers=ANALYST)
    assert missing.status_code == 428

    tag = etag(acked)
    for minutes, state in ((20, "investigating"), (30, "contained")):
        clock.advance(minutes=minutes)
        response = act(client, number, "transition", tag, {"state": state})
        assert ok(response)["state"] == state
        tag = etag(response)
    no_resolution = act(client, number, "transition", tag, {"state": "resolved"})
    assert ok(no_resolution, 422)["errors"][0]["field"] == "body.resolution"
    clock.advance(hours=2)
    resolved = act(client, number, "transition", tag, {"state": "resolved", "resolution": "true_positive"})
    body = ok(resolved)
    assert body["resolution"] == "true_positive"
    assert body["time_to_acknowledge_seconds"] == 600
    assert body["time_to_resolve_seconds"] == 600 + 1200 + 1800 + 7200
    tag = etag(resolved)
    backwards = act(client, number, "transition", tag, {"state": "investigating"})
    assert "reopen" in ok(backwards, 422)["errors"][0]["message"]
    reopened = act(client, number, "reopen", tag, {"reason": "Phát hiện thêm cửa hậu"})
    assert ok(reopened)["state"] == "investigating" and reopened.json()["resolution"] is None
    assert reopened.json()["reopen_count"] == 1

    trail = ok(client.get(f"/api/v1/incidents/{number}", headers=ANALYST))["audit"]
    assert [e["action"] for e in trail] == ["create", "transition:acknowledged", "transition:investigating",
                                            "transition:contained", "transition:resolved", "reopen"]
    assert [e["actor"] for e in trail][:2] == ["demo-soc-analyst", "demo-quynhon"]
    assert trail[1]["before"]["state"] == "new" and trail[1]["after"]["state"] == "acknowledged"
    assert trail[1]["at"] == "2026-11-23T02:10:00Z"
    assert trail[-1]["before"]["state"] == "resolved" and trail[-1]["after"]["state"] == "investigating"


def test_edits_tasks_and_observables(client: TestClient) -> None:
    created = open_incident(client)
    number, tag = created.json()["id"], etag(created)
    url = f"/api/v1/incidents/{number}"
    bad = client.patch(url, json={"attack_techniques": ["T1190", "sql"]}, headers={**ANALYST, "If-Match": tag})
    assert ok(bad, 422)["errors"] == [{"field": "body.attack_techniques",
                                       "message": "not an ATT&CK technique id: 'sql'"}]
    assert ok(client.patch(url, json={"colour": "red"}, headers={**ANALYST, "If-Match": tag}), 422)
    patched = client.patch(url, json={"assignee": "binh.tran", "severity": "critical", "categories": ["outage"],
                                      "attack_techniques": ["T1190"], "attack_tactics": ["initial-access"]},
                           headers={**ANALYST, "If-Match": tag})
    body = ok(patched)
    assert (body["assignee"], body["severity"], body["categories"]) == ("binh.tran", "critical", ["outage"])
    tag = etag(patched)
    assert ok(client.get("/api/v1/incidents?assignee=binh.tran", headers=ANALYST))[0]["id"] == number

    with_task = act(client, number, "tasks", tag, {"title": "Chặn địa chỉ nguồn", "assignee": "binh.tran"})
    task = ok(with_task)["tasks"][0]
    assert task["state"] == "todo"
    done = client.patch(f"{url}/tasks/{task['id']}", json={"state": "done"},
                        headers={**ANALYST, "If-Match": etag(with_task)})
    assert ok(done)["tasks"][0]["state"] == "done"
    unknown = client.patch(f"{url}/tasks/t-nope", json={"state": "done"}, headers={**ANALYST, "If-Match": etag(done)})
    assert ok(unknown, 422)["errors"][0]["field"] == "path.task_id"

    added = act(client, number, "observables", etag(done), {"type": "ip", "value": "203.0.113.7"})
    observable = ok(added)["observables"][-1]
    twice = act(client, number, "observables", etag(added), {"type": "ip", "value": "203.0.113.7"})
    assert ok(twice, 422)["errors"][0]["field"] == "body.value"
    removed = client.delete(f"{url}/observables/{observable['id']}", headers={**ANALYST, "If-Match": etag(added)})
    assert ok(removed)["observables"] == []
    commented = act(client, number, "comments", etag(removed), {"text": "<b>đã</b> gọi điện cho đơn vị"})
    assert ok(commented)["comments"][0]["author"] == "demo-soc-analyst"
    actions = [e["action"] for e in ok(client.get(url, headers=ANALYST))["audit"]]
    assert actions == ["create", "update", "task_add", "task_change", "observable_add", "observable_remove",
                       "comment"]


def _alert(n: int, ip: str) -> Alert:
    return Alert(id=f"al-{n}", rule_id="web-sqli", rule_title="SQL injection", severity=Severity.high,
                 agency="quynhon", system="cong-quynhon", entities={"source.ip": ip}, first_seen=NOW,
                 last_seen=NOW, created=NOW, event_ids=[f"e-{n}"])


def test_merge_then_split(client: TestClient) -> None:
    alerts = [_alert(1, "203.0.113.1"), _alert(2, "203.0.113.1"), _alert(3, "203.0.113.2")]
    client.app.state.store.put_alerts(alerts)  # type: ignore[attr-defined]
    changes = client.app.state.incidents.ingest_alerts(alerts)  # type: ignore[attr-defined]
    first, second = sorted(c.incident.id for c in changes)
    client.app.state.store.refresh()  # type: ignore[attr-defined]
    target = client.get(f"/api/v1/incidents/{first}", headers=ANALYST)
    merged = act(client, first, "merge", etag(target), {"source_ids": [second]})
    body = ok(merged)
    assert body["alert_count"] == 3 and body["merged_from"] == [second]
    assert sorted(body["alert_ids"]) == ["al-1", "al-2", "al-3"]
    source = ok(client.get(f"/api/v1/incidents/{second}", headers=ANALYST))
    assert (source["state"], source["resolution"], source["merged_into"]) == ("closed", "duplicate", first)
    again = act(client, first, "merge", etag(merged), {"source_ids": [second]})
    assert ok(again, 422)["errors"][0]["field"] == "body.source_ids[0]"

    split = act(client, first, "split", etag(merged), {"alert_ids": ["al-3"], "title": "Nguồn thứ hai"})
    new = ok(split, 201)
    assert new["id"] == "QNN-2026-000003" and new["alert_ids"] == ["al-3"] and new["title"] == "Nguồn thứ hai"
    assert new["entities"] == {"source.ip": "203.0.113.2"}
    left = ok(client.get(f"/api/v1/incidents/{first}", headers=ANALYST))
    assert sorted(left["alert_ids"]) == ["al-1", "al-2"] and left["alert_count"] == 2
    assert [a["id"] for a in ok(client.get(f"/api/v1/incidents/{new['id']}", headers=ANALYST))["alerts"]] == ["al-3"]
    everything = act(client, first, "split", etag(client.get(f"/api/v1/incidents/{first}", headers=ANALYST)),
                     {"alert_ids": ["al-1", "al-2"]})
    assert ok(everything, 422)["errors"][0]["field"] == "body.alert_ids"
    assert [e["action"] for e in left["audit"]] == ["create", "merge", "split"]


def test_serious_flag_from_level_and_category_overridable(client: TestClient) -> None:
    national = open_incident(client, agency="vpcp", system="cdvc", categories=["personal_data_leak"]).json()
    assert national["serious"] is True
    local = open_incident(client, agency="quynhon", system="cong-quynhon", categories=["personal_data_leak"])
    assessment = ok(client.get(f"/api/v1/incidents/{local.json()['id']}", headers=ANALYST))["serious_assessment"]
    assert assessment == {"serious": False, "computed": False, "security_level": 2,
                          "matching_categories": ["personal_data_leak"], "override": None}
    attempt = open_incident(client, agency="vpcp", system="cdvc", categories=["attempt"]).json()
    assert attempt["serious"] is False
    no_reason = act(client, local.json()["id"], "serious", etag(local), {"serious": True})
    assert ok(no_reason, 422)["errors"][0]["field"] == "body.reason"
    forced = act(client, local.json()["id"], "serious", etag(local), {"serious": True, "reason": "Lộ 20.000 hồ sơ"})
    body = ok(forced)
    assert body["serious"] is True and body["serious_assessment"]["computed"] is False
    assert body["serious_assessment"]["override"]["actor"] == "demo-soc-analyst"
    cleared = act(client, local.json()["id"], "serious", etag(forced), {"serious": None, "reason": "nhầm"})
    assert ok(cleared)["serious"] is False


def test_systems_of_other_agencies_look_unknown(client: TestClient) -> None:
    foreign = client.post("/api/v1/incidents", headers=QUYNHON, json={
        "agency": "quynhon", "title": "x", "severity": "low", "system": "dvc-phuyen"})
    assert ok(foreign, 422)["errors"] == [{"field": "body.system", "message": "unknown system 'dvc-phuyen'"}]
    created = open_incident(client, QUYNHON)
    patched = client.patch(f"/api/v1/incidents/{created.json()['id']}", json={"system": "dvc-phuyen"},
                           headers={**QUYNHON, "If-Match": etag(created)})
    assert ok(patched, 422)["errors"][0]["field"] == "body.system"
    assert ok(client.post("/api/v1/incidents", headers=ANALYST, json={
        "agency": "quynhon", "title": "x", "severity": "low", "system": "dvc-phuyen"}), 201)["system"] == "dvc-phuyen"


def test_a_stale_split_creates_nothing(client: TestClient) -> None:
    alerts = [_alert(1, "203.0.113.1"), _alert(2, "203.0.113.1")]
    client.app.state.store.put_alerts(alerts)  # type: ignore[attr-defined]
    [change] = client.app.state.incidents.ingest_alerts(alerts)  # type: ignore[attr-defined]
    stale = act(client, change.incident.id, "split", '"0"', {"alert_ids": ["al-1"]})
    assert stale.status_code == 412
    assert [i["id"] for i in ok(client.get("/api/v1/incidents", headers=ANALYST))] == [change.incident.id]
