from __future__ import annotations

from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

import canhgac


def test_openapi_schema_documents_the_routes(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Canh Gác"
    assert schema["info"]["version"] == canhgac.__version__
    paths = schema["paths"]
    for path in ("/api/v1/health", "/api/v1/me", "/api/v1/agencies", "/api/v1/incidents",
                 "/api/v1/incidents/{incident_id}", "/api/v1/alerts", "/api/v1/events/{event_id}"):
        assert "get" in paths[path], path
    assert all(path.startswith("/api/v1/") for path in paths)
    listing = paths["/api/v1/incidents"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"state", "agency", "limit", "severity", "system", "rule_id",
                                                          "assignee", "since", "until", "sort", "cursor", "q"}
    assert "X-Total-Count" in listing["responses"]["200"]["headers"]
    for path, method in (("/api/v1/overview", "get"), ("/api/v1/incidents/bulk", "post"), ("/api/v1/attack", "get"),
                         ("/api/v1/rules/{rule_id}", "get"), ("/api/v1/events/histogram", "get")):
        operation = paths[path][method]
        assert operation["summary"] and "401" in operation["responses"], path
        assert operation["responses"]["200"]["content"]["application/json"]["schema"], path
    for status in ("401", "404", "422", "503"):
        assert listing["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    detail = paths["/api/v1/incidents/{incident_id}"]["get"]
    assert "404" in detail["responses"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
    assert "version" in schema["components"]["schemas"]["IncidentOut"]["properties"]


def test_create_app_builds_independent_apps(settings: Settings, sqlite_store: Store) -> None:
    first, second = create_app(settings, sqlite_store), create_app(settings, sqlite_store)
    assert first is not second and first.state.directory is not second.state.directory
