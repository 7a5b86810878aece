"""Every error is application/problem+json; bad input is a 422 naming the parameter, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from canhgac.core.errors import StoreUnavailable
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import ANALYST, BINHDINH


def problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"] and body["title"]
    return body


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "query.limit"),
    ("limit=501", "query.limit"),
    ("limit=abc", "query.limit"),
    ("limit=", "query.limit"),
    ("state=bogus", "query.state[0]"),
    ("state=new&state=bogus", "query.state[1]"),
    ("agency=" + "x" * 100, "query.agency"),
])
def test_bad_incident_parameters_are_422_naming_the_field(sqlite_client: TestClient, query: str, field: str) -> None:
    body = problem(sqlite_client.get(f"/api/v1/incidents?{query}", headers=ANALYST), 422)
    assert field in [error["field"] for error in body["errors"]]
    assert all(error["message"] for error in body["errors"])
    assert field in body["detail"]


@pytest.mark.parametrize(("query", "field"), [
    ("min_severity=extreme", "query.min_severity"),
    ("limit=-1", "query.limit"),
    ("agency=atlantis", "query.agency"),
])
def test_bad_alert_parameters_are_422(sqlite_client: TestClient, query: str, field: str) -> None:
    body = problem(sqlite_client.get(f"/api/v1/alerts?{query}", headers=BINHDINH), 422)
    assert [error["field"] for error in body["errors"]] == [field]


def test_unknown_agency_is_422_for_every_caller(sqlite_client: TestClient) -> None:
    for headers in (ANALYST, BINHDINH):
        body = problem(sqlite_client.get("/api/v1/incidents?agency=atlantis", headers=headers), 422)
        assert body["errors"] == [{"field": "query.agency", "message": "unknown agency 'atlantis'"}]


@pytest.mark.parametrize("path", ["/api/v1/incidents/%00%ff", "/api/v1/incidents/" + "x" * 300,
                                  "/api/v1/incidents/" + "𝔵" * 128, "/api/v1/events/" + "𝔵" * 128,
                                  "/api/v1/events/%2e%2e", "/api/v1/events/' OR 1=1 --", "/api/v1/incidents/_search",
                                  "/api/v1/events/a%2Fb", "/api/v1/incidents/*"])
def test_odd_ids_are_a_problem_not_a_500(client: TestClient, path: str) -> None:
    response = client.get(path, headers=ANALYST)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_and_method_are_problems(sqlite_client: TestClient) -> None:
    problem(sqlite_client.get("/api/v1/nothing-here", headers=ANALYST), 404)
    problem(sqlite_client.get("/assets/nothing-here.js"), 404)
    problem(sqlite_client.delete("/api/v1/incidents", headers=ANALYST), 405)


def test_store_unavailable_is_503_with_retry_after(sqlite_client: TestClient, sqlite_store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: object, **__: object) -> None:
        raise StoreUnavailable("Elasticsearch unreachable: connection refused")

    monkeypatch.setattr(sqlite_store, "search_incidents", down)
    monkeypatch.setattr(sqlite_store, "get_incident", down)
    for path in ("/api/v1/incidents", "/api/v1/incidents/BDH-1"):
        response = sqlite_client.get(path, headers=ANALYST)
        body = problem(response, 503)
        assert int(response.headers["retry-after"]) > 0
        assert "refused" not in body["detail"]  # internals stay in the log


def test_api_responses_are_not_cached(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/api/v1/me", headers=ANALYST)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
