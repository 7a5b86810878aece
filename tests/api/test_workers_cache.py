"""List rows are built once per incident version (api/summary_cache.py): what changes with time (``overdue``)
and what changes with a write (a filing, a new title) still shows at once in the list."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, FrozenClock, etag, ok, open_incident


def listed(client: TestClient, number: str) -> dict[str, Any]:
    [item] = [i for i in ok(client.get("/api/v1/incidents", headers=ANALYST)) if i["id"] == number]
    return item


def test_a_cached_row_follows_the_clock_and_every_write(client: TestClient, clock: FrozenClock) -> None:
    created = open_incident(client, severity="low", title="Dò quét cổng")
    number = created.json()["id"]
    assert listed(client, number)["overdue"] == []
    clock.advance(days=5)
    assert "incident_notice" in listed(client, number)["overdue"]  # same version, later now
    current = client.get(f"/api/v1/incidents/{number}", headers=ANALYST)
    filed = client.post(f"/api/v1/incidents/{number}/filings", headers={**ANALYST, "If-Match": etag(current)},
                        json={"kind": "incident_notice", "late_reason": "Chờ xác minh"})
    row = listed(client, number)
    assert "incident_notice" not in row["overdue"] and row["version"] == ok(filed)["version"]
    renamed = client.patch(f"/api/v1/incidents/{number}", json={"title": "Dò quét cổng dịch vụ công"},
                           headers={**ANALYST, "If-Match": etag(filed)})
    row = listed(client, number)
    assert row["title"] == "Dò quét cổng dịch vụ công" and row["version"] == ok(renamed)["version"]
    detail = ok(client.get(f"/api/v1/incidents/{number}", headers=ANALYST))
    assert {k: detail[k] for k in row} == row  # the cached row says what the incident itself says
