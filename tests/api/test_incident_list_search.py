"""The incident list of issue 10: free text, any-rule filter, the new sorts and X-Total-Count, on every store."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import IncidentState, RuleHit, Severity
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, QUYNHON, T0, make_incident, ok


def walk(client: TestClient, url: str, headers: dict[str, str]) -> list[str]:
    seen: list[str] = []
    while url:
        response = client.get(url, headers=headers)
        seen += [item["id"] for item in ok(response)]
        link = response.headers.get("link")
        url = link[1:link.index(">")] if link else ""
    return seen


def seed(store: Store) -> None:
    hits = [RuleHit(rule_id="ssh-fail", title="SSH Authentication Failure", title_vi="Đăng nhập SSH thất bại",
                    severity=Severity.low, count=30, alerts=30, first_seen=T0, last_seen=T0),
            RuleHit(rule_id="ssh-brute", title="SSH Brute Force", title_vi="Dò mật khẩu SSH",
                    severity=Severity.high, count=30, alerts=1, first_seen=T0, last_seen=T0)]
    for n in range(6):
        agency = ("quynhon", "binhdinh", "phuyen")[n % 3]
        incident = make_incident(f"INC-{n}", agency, minutes=n, ip=f"203.0.113.{n}")
        store.create_incident(incident.model_copy(update={
            "title": f"Dò mật khẩu SSH — 203.0.113.{n}" if n < 3 else "Dò quét lỗ hổng web",
            "rules": hits if n < 3 else [], "rule_id": "ssh-fail" if n < 3 else "web-scan", "alert_count": 10 - n,
            "state": IncidentState.acknowledged if n == 4 else IncidentState.new,
            "assignee": "lan.nguyen" if n == 1 else None}))
    store.refresh()


def test_search_rule_filter_and_total(client: TestClient, store: Store) -> None:
    seed(store)
    everything = client.get("/api/v1/incidents?limit=2", headers=ANALYST)
    assert everything.headers["x-total-count"] == "6" and len(ok(everything)) == 2
    found = client.get("/api/v1/incidents?q=do mat khau", headers=ANALYST)
    assert sorted(i["id"] for i in ok(found)) == ["INC-0", "INC-1", "INC-2"]
    assert found.headers["x-total-count"] == "3"
    assert [i["id"] for i in ok(client.get("/api/v1/incidents?q=203.0.113.4", headers=ANALYST))] == ["INC-4"]
    assert [i["id"] for i in ok(client.get("/api/v1/incidents?q=LAN.NGUYEN", headers=ANALYST))] == ["INC-1"]
    # any rule that joined, not only the opening one; scoped like every list
    brute = client.get("/api/v1/incidents?rule_id=ssh-brute", headers=QUYNHON)
    assert [i["id"] for i in ok(brute)] == ["INC-0"] and brute.headers["x-total-count"] == "1"
    row = ok(brute)[0]
    assert [r["rule_id"] for r in row["rules"]] == ["ssh-fail", "ssh-brute"] and row["rules"][0]["count"] == 30
    assert client.get("/api/v1/incidents?q=dò quét&agency=phuyen", headers=ANALYST).headers["x-total-count"] == "1"
    assert ok(client.get("/api/v1/incidents?q=%22%29%20OR%20%28*", headers=ANALYST)) == []
    assert ok(client.get("/api/v1/incidents?q=" + "a" * 201, headers=ANALYST), 422)["errors"][0]["field"] == "query.q"


def test_new_sorts_page_to_the_end(client: TestClient, store: Store) -> None:
    seed(store)
    assert walk(client, "/api/v1/incidents?sort=-alert_count&limit=4", ANALYST) == [f"INC-{n}" for n in range(6)]
    assert walk(client, "/api/v1/incidents?sort=id&limit=4", ANALYST) == [f"INC-{n}" for n in range(6)]
    assert walk(client, "/api/v1/incidents?sort=-id&limit=5", ANALYST) == [f"INC-{n}" for n in reversed(range(6))]
    by_agency = walk(client, "/api/v1/incidents?sort=agency&limit=1", ANALYST)
    assert by_agency == ["INC-1", "INC-4", "INC-2", "INC-5", "INC-0", "INC-3"]
    by_state = walk(client, "/api/v1/incidents?sort=-state&limit=2", BINHDINH)
    assert by_state[0] == "INC-4" and len(by_state) == 4
    first = client.get("/api/v1/incidents?sort=agency&limit=1", headers=ANALYST)
    cursor = first.headers["x-next-cursor"]
    assert ok(client.get(f"/api/v1/incidents?sort=alert_count&cursor={cursor}", headers=ANALYST), 422)
    numeric = client.get("/api/v1/incidents?sort=state&limit=1", headers=ANALYST).headers["x-next-cursor"]
    assert ok(client.get(f"/api/v1/incidents?sort=agency&cursor={numeric}", headers=ANALYST), 422)


def test_total_count_follows_the_time_range(client: TestClient, store: Store) -> None:
    seed(store)
    since = (T0 + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    response = client.get(f"/api/v1/incidents?since={since}", headers=ANALYST)
    assert response.headers["x-total-count"] == "3" and len(ok(response)) == 3
