"""Finding: forged cursors, huge integer field filters and days at the edges of the calendar were answered with a
500 without the security headers. Bad input is a 4xx problem naming the parameter, on both stores, and every
error response (an unexpected 500 too) carries the same security headers as a normal one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from httpx import Response

ANALYST = {"X-API-Key": "demo-soc-analyst"}
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


def cursor(payload: dict[str, Any]) -> str:
    """A cursor as an attacker forges one (the json module writes integers orjson refuses)."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as test_client:
        yield test_client


def assert_secured(response: Response) -> None:
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, f"{response.status_code} without {missing}"
    assert response.headers["cache-control"] == "no-store"


def assert_names(response: Response, field: str) -> None:
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]], response.text
    assert_secured(response)


EVENTS_CURSORS = [{"k": "events", "t": "garbage", "i": "x", "o": False},
                  {"k": "events", "t": "2026-13-01T00:00:00.000Z", "i": "x", "o": False},
                  {"k": "events", "t": "0001-01-01T00:00:00+07:00", "i": "x", "o": False},
                  {"k": "events", "t": "2026-11-22T08:00:00.000Z", "i": 2 ** 63, "o": False}]
ALERTS_CURSORS = [{"k": "alerts", "t": "0001-01-01T00:00:00+07:00", "i": "x"},
                  {"k": "alerts", "t": "9999-12-31T23:59:59-07:00", "i": "x"},
                  {"k": "alerts", "t": "2026-11-22T08:00:00.000Z", "i": "x", "extra": 2 ** 64}]
INCIDENTS_CURSORS = [{"k": "incidents", "s": "-last_seen", "v": 2 ** 63, "i": "x"},
                     {"k": "incidents", "s": "-last_seen", "v": 3 * 2 ** 62, "i": "x"},
                     {"k": "incidents", "s": "-last_seen", "v": -(2 ** 63) - 1, "i": "x"},
                     {"k": "incidents", "s": "-last_seen", "v": True, "i": "x"}]


@pytest.mark.parametrize(("path", "payload"), [
    *[("/api/v1/events", p) for p in EVENTS_CURSORS],
    *[("/api/v1/alerts", p) for p in ALERTS_CURSORS],
    *[("/api/v1/incidents", p) for p in INCIDENTS_CURSORS],
])
def test_forged_cursors_are_422(client: TestClient, path: str, payload: dict[str, Any]) -> None:
    assert_names(client.get(path, params={"cursor": cursor(payload)}, headers=ANALYST), "query.cursor")


@pytest.mark.parametrize("value", [
    "http.response.status_code:99999999999999999999999",
    "http.response.status_code:-99999999999999999999999",
    "http.response.status_code:9223372036854775808",
    "http.response.status_code:four-oh-four",
    "source.port:1e400",
    "source.ip:999.1.1.1",
    "source.ip:not-an-address",
    "@timestamp:garbage",
    "@timestamp:2026-13-01T00:00:00Z",
    "url.port:99999999999999999999999",  # a field without a mapping: SQLite bound it as an integer
])
def test_field_filters_out_of_the_field_type_are_422(client: TestClient, value: str) -> None:
    response = client.get("/api/v1/events", params=[("field", "organization.id:binhdinh"), ("field", value)],
                          headers=ANALYST)
    assert_names(response, "query.field[1]")


def test_field_filters_of_the_field_type_are_accepted(client: TestClient) -> None:
    for value in ("http.response.status_code:9223372036854775807", "http.response.status_code:-404",
                  "source.ip:2001:DB8::1", "@timestamp:2026-11-22T15:00:00+07:00", "url.port:123456789012"):
        response = client.get("/api/v1/events", params={"field": value}, headers=ANALYST)
        assert response.status_code == 200 and response.json() == [], response.text


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/events?since=0001-01-01T00:00:00%2B07:00", "query.since"),
    ("/api/v1/events?until=9999-12-31T23:59:59-07:00", "query.until"),
    ("/api/v1/alerts?since=0001-01-01T00:00:00%2B07:00", "query.since"),
    ("/api/v1/alerts?until=9999-12-31T23:59:59-07:00", "query.until"),
    ("/api/v1/incidents?since=0001-01-01T00:00:00%2B07:00", "query.since"),
    ("/api/v1/incidents?until=9999-12-31T23:59:59-12:00", "query.until"),
    ("/api/v1/alerts?since=0999-06-01T00:00:00Z", "query.since"),  # the stores write four-digit years
])
def test_times_beyond_the_calendar_in_utc_are_422(client: TestClient, path: str, field: str) -> None:
    assert_names(client.get(path, headers=ANALYST), field)


@pytest.mark.parametrize("query", ["day=0001-01-01", "day=0999-12-31", "day=0001-01-01&period=weekly",
                                   "day=9999-12-31&period=weekly", "day=9999-12-27&period=weekly&format=html"])
def test_monitoring_days_at_the_edges_of_the_calendar_are_422(client: TestClient, query: str) -> None:
    assert_names(client.get(f"/api/v1/reports/monitoring?{query}", headers=ANALYST), "query.day")


def test_monitoring_days_inside_the_calendar_still_work(client: TestClient) -> None:
    for query in ("day=2026-11-22", "day=2026-11-22&period=weekly", "day=1000-01-02", "day=9999-12-31"):
        assert client.get(f"/api/v1/reports/monitoring?{query}", headers=ANALYST).status_code == 200


def test_an_unexpected_500_is_a_problem_without_internals_and_with_the_security_headers(
        settings: Settings, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(sqlite_store, "search_alerts", broken)
    with TestClient(create_app(settings, sqlite_store), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/alerts", headers=ANALYST)
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text and response.json()["detail"] == "internal error"
    assert_secured(response)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+07:00", "0999-06-01T00:00:00Z", "9999-12-31T23:59:59-07:00"])
def test_incident_times_beyond_the_calendar_are_422_and_posture_survives(client: TestClient, moment: str) -> None:
    created = client.post("/api/v1/incidents", headers=ANALYST,
                          json={"agency": "binhdinh", "title": "Thử", "severity": "low", "detected_at": moment})
    assert_names(created, "body.detected_at")
    assert client.get("/api/v1/posture", headers=ANALYST).status_code == 200
    assert client.get("/api/v1/posture/ranking", headers=ANALYST).status_code == 200
