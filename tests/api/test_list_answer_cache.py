"""Whole list answers kept per process (api/answer_cache.py): never stale after a write from another connection,
never shared between scopes, never past an overdue deadline, bounded; refusals still come from the route."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from canhgac.api.answer_cache import AnswerCache
from canhgac.core.model import IncidentState
from canhgac.storage.base import Store
from canhgac.storage.sqlite import SqliteStore
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import ADMIN, ANALYST, BINHDINH, QUYNHON, FrozenClock, make_incident, ok

LIST = "/api/v1/incidents"


def cache_of(client: TestClient) -> AnswerCache:
    return client.app.state.answer_cache  # type: ignore[attr-defined]


def listed(client: TestClient, headers: dict[str, str], query: str = "") -> tuple[list[dict[str, Any]], Response]:
    response = client.get(f"{LIST}?{query}", headers=headers)
    return ok(response), response


def seed(store: Store) -> None:
    for n, agency in enumerate(["quynhon", "quynhon", "binhdinh", "phuyen"]):
        store.create_incident(make_incident(f"T-2026-{n:04d}", agency, minutes=n))


def test_a_write_from_another_connection_shows_on_the_next_read(sqlite_client: TestClient,
                                                                sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    first, response = listed(sqlite_client, QUYNHON)
    again, repeated = listed(sqlite_client, QUYNHON)
    assert again == first and repeated.headers["etag"] == response.headers["etag"]
    assert cache_of(sqlite_client).hits == 1  # the second read was answered from the cache
    other = SqliteStore(sqlite_store.path)  # its own connections, as another worker process has
    try:
        other.create_incident(make_incident("T-2026-0100", "quynhon", minutes=100))
        after, changed = listed(sqlite_client, QUYNHON)
        assert after[0]["id"] == "T-2026-0100" and changed.headers["x-total-count"] == str(len(first) + 1)
        stored = other.get_incident("T-2026-0001")
        assert stored is not None and stored.version is not None
        other.update_incident(stored.model_copy(update={"title": "Đổi tên ở tiến trình khác"}),
                              expected_version=stored.version)
        renamed, _ = listed(sqlite_client, QUYNHON)
        assert {i["id"]: i["title"] for i in renamed}["T-2026-0001"] == "Đổi tên ở tiến trình khác"
    finally:
        other.close()


def test_the_marker_moves_with_every_incident_write_only(sqlite_store: SqliteStore) -> None:
    other = SqliteStore(sqlite_store.path)
    try:
        before = sqlite_store.incidents_marker()
        created = other.create_incident(make_incident("T-2026-0001", "quynhon"))
        assert sqlite_store.incidents_marker() != before
        moved = sqlite_store.incidents_marker()
        other.put_events([{"event.id": "e1", "@timestamp": "2026-11-22T08:00:00Z", "organization.id": "quynhon"}])
        assert sqlite_store.incidents_marker() == moved  # events leave incident answers alone
        assert created.version is not None
        other.update_incident(created.model_copy(update={"state": IncidentState.acknowledged}),
                              expected_version=created.version)
        assert sqlite_store.incidents_marker() != moved
    finally:
        other.close()


def test_scopes_never_share_an_answer(sqlite_client: TestClient, sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    seen: dict[str, list[str]] = {}
    for _ in range(2):  # the second round is served from the cache
        for name, headers in (("analyst", ANALYST), ("binhdinh", BINHDINH), ("quynhon", QUYNHON)):
            ids = [i["id"] for i in listed(sqlite_client, headers)[0]]
            assert seen.setdefault(name, ids) == ids
    assert cache_of(sqlite_client).hits == 3
    assert set(seen["quynhon"]) == {"T-2026-0000", "T-2026-0001"}
    assert set(seen["binhdinh"]) == {"T-2026-0000", "T-2026-0001", "T-2026-0002"}
    assert "T-2026-0003" in seen["analyst"]
    # the same query string with a key that is missing or wrong still gets the route's 401
    assert sqlite_client.get(LIST).status_code == 401
    assert sqlite_client.get(LIST, headers={"X-API-Key": "not-a-key"}).status_code == 401
    # outside the caller's scope is still the route's 404, inside it the right subset
    assert sqlite_client.get(f"{LIST}?agency=phuyen", headers=QUYNHON).status_code == 404
    assert {i["id"] for i in listed(sqlite_client, BINHDINH, "agency=quynhon")[0]} == set(seen["quynhon"])


def test_bad_parameters_still_name_the_field(sqlite_client: TestClient, sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    listed(sqlite_client, ANALYST, "limit=2")
    listed(sqlite_client, ANALYST, "limit=2")
    for query, field in (("limit=0", "limit"), ("sort=title", "sort"), ("cursor=xyz", "cursor")):
        response = sqlite_client.get(f"{LIST}?{query}", headers=ANALYST)
        assert response.status_code == 422 and field in response.text, response.text


def test_an_overdue_clock_flips_at_its_deadline(sqlite_client: TestClient, clock: FrozenClock) -> None:
    created = ok(sqlite_client.post(LIST, headers=ANALYST, json={
        "agency": "quynhon", "title": "Dò quét cổng", "severity": "low", "system": "cong-quynhon"}), 201)
    detail = ok(sqlite_client.get(f"{LIST}/{created['id']}", headers=ANALYST))
    running = [c for c in detail["clocks"] if c["done_at"] is None and not c["overdue"]]
    first = min(running, key=lambda c: c["due"])
    due = datetime.fromisoformat(first["due"].replace("Z", "+00:00"))

    def overdue() -> list[str]:
        [row] = [i for i in listed(sqlite_client, ANALYST)[0] if i["id"] == created["id"]]
        return row["overdue"]

    assert first["kind"] not in overdue()
    clock.now = due - timedelta(microseconds=1)
    assert first["kind"] not in overdue()
    hits = cache_of(sqlite_client).hits
    assert first["kind"] not in overdue() and cache_of(sqlite_client).hits == hits + 1  # still kept
    clock.now = due
    assert first["kind"] in overdue()


def test_if_none_match_gets_a_304_until_a_write(sqlite_client: TestClient, sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    _, response = listed(sqlite_client, QUYNHON)
    tag = response.headers["etag"]
    unchanged = sqlite_client.get(LIST, headers={**QUYNHON, "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag
    assert unchanged.headers["x-total-count"] == response.headers["x-total-count"]
    assert unchanged.headers["cache-control"] == "no-store"  # the security headers still wrap it
    sqlite_store.create_incident(make_incident("T-2026-0100", "quynhon", minutes=100))
    fresh = sqlite_client.get(LIST, headers={**QUYNHON, "If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != tag and fresh.json()[0]["id"] == "T-2026-0100"


def test_the_cache_is_bounded(sqlite_client: TestClient, sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    page = len(sqlite_client.get(LIST, headers=ANALYST).content)
    bounded = AnswerCache(max_entries=6, max_bytes=32 * page)
    sqlite_client.app.state.answer_cache = bounded  # type: ignore[attr-defined]
    for limit in range(1, 41):
        listed(sqlite_client, ANALYST, f"limit={limit}")
        assert len(bounded) <= 6 and bounded.bytes <= 32 * page
    assert len(bounded) == 6
    small = AnswerCache(max_entries=100, max_bytes=page)  # one page is more than a sixteenth: never kept
    sqlite_client.app.state.answer_cache = small  # type: ignore[attr-defined]
    listed(sqlite_client, ANALYST)
    assert len(small) == 0 and small.bytes == 0


def test_elasticsearch_answers_are_not_kept(client: TestClient, store: Store) -> None:
    seed(store)
    store.refresh()
    listed(client, ANALYST)
    listed(client, ANALYST)
    assert len(cache_of(client)) == (1 if store.kind == "sqlite" else 0)


def test_a_revoked_key_is_refused_although_its_answer_is_kept(sqlite_client: TestClient,
                                                              sqlite_store: SqliteStore) -> None:
    seed(sqlite_store)
    body = {"name": "script-quynhon", "role": "agency_viewer", "agency": "quynhon"}
    issued = ok(sqlite_client.post("/api/v1/api-keys", json=body, headers=ADMIN), 201)
    key = {"X-API-Key": issued["key"]}
    first, _ = listed(sqlite_client, key)
    assert listed(sqlite_client, key)[0] == first and cache_of(sqlite_client).hits == 1
    assert {i["id"] for i in first} == {"T-2026-0000", "T-2026-0001"}
    ok(sqlite_client.delete(f"/api/v1/api-keys/{issued['id']}", headers=ADMIN))
    assert sqlite_client.get(LIST, headers=key).status_code == 401
