from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, AUDITOR, BINHDINH


def test_health_needs_no_key(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "sqlite"}


@pytest.mark.parametrize("headers", [
    {},
    {"X-API-Key": "wrong-key"},
    {"X-API-Key": ""},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": "Basic ZGVtbzpkZW1v"},
    {"X-API-Key": "f3d2fc154d097f09819a7654572edb916f58eac56f675025a6d3537b5c3d8d3e"},  # the hash is not the key
])
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/incidents", "/api/v1/incidents/x", "/api/v1/alerts",
                                  "/api/v1/events/x", "/api/v1/agencies"])
def test_missing_or_wrong_key_is_401_problem(sqlite_client: TestClient, path: str, headers: dict[str, str]) -> None:
    response = sqlite_client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


def test_me_for_an_agency_viewer(sqlite_client: TestClient) -> None:
    me = sqlite_client.get("/api/v1/me", headers=BINHDINH).json()
    assert me["name"] == "demo-binhdinh"
    assert me["role"] == "agency_viewer"
    assert me["sees_all"] is False
    assert me["agency"] == "binhdinh"
    assert me["agency_name_vi"] == "Ủy ban nhân dân tỉnh Bình Định"
    assert me["agency_name_en"] == "Binh Dinh Provincial People's Committee"
    assert {"binhdinh", "quynhon", "quynhon-tranphu", "annhon-dapda"} <= set(me["scope"])
    assert "phuyen" not in me["scope"] and "gialai" not in me["scope"]


def test_bearer_and_header_keys_both_work(sqlite_client: TestClient) -> None:
    analyst = sqlite_client.get("/api/v1/me", headers={"Authorization": "Bearer demo-soc-analyst"}).json()
    assert analyst == sqlite_client.get("/api/v1/me", headers=ANALYST).json()
    assert analyst["scope"] is None and analyst["sees_all"] is True and analyst["agency"] is None
    assert sqlite_client.get("/api/v1/me", headers=AUDITOR).json()["role"] == "auditor"


def test_agencies_lists_only_the_callers_scope(sqlite_client: TestClient) -> None:
    mine = sqlite_client.get("/api/v1/agencies", headers={"X-API-Key": "demo-quynhon"}).json()
    assert {a["id"] for a in mine} == {"quynhon", "quynhon-tranphu", "quynhon-nhonbinh"}
    quynhon = next(a for a in mine if a["id"] == "quynhon")
    assert quynhon == {"id": "quynhon", "code": "QNN", "name_vi": "Ủy ban nhân dân thành phố Quy Nhơn",
                       "name_en": "Quy Nhon City People's Committee", "level": "district", "parent": "binhdinh",
                       "merged_into": "gialai", "dissolved": "2025-07-01", "current": False, "successor": "gialai",
                       "successor_name_vi": "Ủy ban nhân dân tỉnh Gia Lai",
                       "successor_name_en": "Gia Lai Provincial People's Committee"}
    everything = sqlite_client.get("/api/v1/agencies", headers=ANALYST).json()
    assert {"phuyen", "binhdinh", "vpcp"} <= {a["id"] for a in everything}
