"""GET /events/histogram and X-Total-Count on /events: the same filters as the search, on every store."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import event_id, to_utc_iso
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, NOW, QUYNHON, T0, ok


def seed(store: Store) -> None:
    rows = [("quynhon", "GET /etc/passwd 404", 0), ("quynhon", "GET /etc/passwd 404", 1),
            ("quynhon", "GET /index.php 200", 7), ("phuyen", "GET /etc/passwd 404", 8)]
    store.put_events([{"@timestamp": to_utc_iso(T0 + timedelta(minutes=minutes)), "organization.id": agency,
                       "event.id": event_id("s", n, line.encode()), "event.original": line,
                       "http.response.status_code": int(line[-3:])}
                      for n, (agency, line, minutes) in enumerate(rows)])
    store.refresh()


def test_histogram_buckets_and_total(client: TestClient, store: Store) -> None:
    seed(store)
    window = {"since": to_utc_iso(T0), "until": to_utc_iso(T0 + timedelta(minutes=10)), "interval": "300"}
    found = ok(client.get("/api/v1/events/histogram", params=window, headers=ANALYST))
    assert found["interval_seconds"] == 300 and found["total"] == 4
    assert [b["count"] for b in found["buckets"]] == [2, 2]
    passwd = ok(client.get("/api/v1/events/histogram", params={**window, "q": "passwd"}, headers=QUYNHON))
    assert [b["count"] for b in passwd["buckets"]] == [2, 0] and passwd["total"] == 2
    status = ok(client.get("/api/v1/events/histogram", headers=ANALYST,
                           params={**window, "field": "http.response.status_code:200"}))
    assert status["total"] == 1
    default = ok(client.get("/api/v1/events/histogram", headers=ANALYST))
    assert default["until"].startswith(to_utc_iso(NOW)[:19]) and 24 <= len(default["buckets"]) <= 60
    assert default["total"] == 4 and sum(b["count"] for b in default["buckets"]) == 4
    fine = client.get("/api/v1/events/histogram", params={"interval": "1"}, headers=ANALYST)
    assert ok(fine, 422)["errors"][0]["field"] == "query.interval"
    backwards = client.get("/api/v1/events/histogram", params={"since": to_utc_iso(NOW), "until": to_utc_iso(T0)},
                           headers=ANALYST)
    assert ok(backwards, 422)["errors"][0]["field"] == "query.since"


def test_event_search_counts_every_match(client: TestClient, store: Store) -> None:
    seed(store)
    first = client.get("/api/v1/events?q=passwd&limit=1", headers=ANALYST)
    assert first.headers["x-total-count"] == "3" and len(ok(first)) == 1
    second = client.get(f"/api/v1/events?q=passwd&limit=1&cursor={first.headers['x-next-cursor']}", headers=ANALYST)
    assert second.headers["x-total-count"] == "3"
    assert client.get("/api/v1/events", headers=QUYNHON).headers["x-total-count"] == "3"
