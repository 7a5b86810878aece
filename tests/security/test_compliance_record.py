"""Finding: an agency responder could rewrite its own compliance record — PATCH ``detected_at`` to now (the
clocks restart), record a back-dated filing that counts as on time, and override the serious flag. These are
for the SOC (soc_admin, soc_analyst); an agency responder gets a 403 problem+json naming the field, may record a
filing only as sent now (a few minutes' tolerance), and the audit trail keeps the values before and after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import ANALYST, NOW, QUYNHON, FrozenClock, etag, ok, open_incident

DETECTED = NOW - timedelta(days=6)  # the 5-day incident notice is overdue already


@pytest.fixture
def client(settings: Settings, sqlite_store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sqlite_store, clock=FrozenClock(NOW))) as test_client:
        yield test_client


def _incident(client: TestClient) -> tuple[str, str]:
    created = open_incident(client, detected_at=DETECTED.isoformat(), categories=["outage"])
    return created.json()["id"], etag(created)


def _forbidden(response: Response, field: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"]


def _posture(client: TestClient) -> dict:  # type: ignore[type-arg]
    return ok(client.get("/api/v1/posture?agency=quynhon", headers=ANALYST))


def test_agency_responder_cannot_move_detection_the_soc_can_and_the_audit_keeps_it(client: TestClient) -> None:
    number, version = _incident(client)
    before = _posture(client)
    moved = client.patch(f"/api/v1/incidents/{number}", json={"detected_at": NOW.isoformat()},
                         headers={**QUYNHON, "If-Match": version})
    _forbidden(moved, "body.detected_at")
    current = ok(client.get(f"/api/v1/incidents/{number}", headers=QUYNHON))
    assert current["detected_at"] == "2026-11-17T02:00:00Z" and current["version"] == version.strip('"')
    assert _posture(client) == before
    renamed = client.patch(f"/api/v1/incidents/{number}", json={"title": "Sự cố cổng thông tin"},
                           headers={**QUYNHON, "If-Match": version})
    assert ok(renamed)["title"] == "Sự cố cổng thông tin"  # the rest of the incident is still the agency's to edit

    later = NOW - timedelta(days=1)
    ok(client.patch(f"/api/v1/incidents/{number}", json={"detected_at": later.isoformat()},
                    headers={**ANALYST, "If-Match": etag(renamed)}))
    audit = ok(client.get(f"/api/v1/incidents/{number}", headers=ANALYST))["audit"]
    [entry] = [e for e in audit if e["action"] == "update" and "detected_at" in e["after"]]
    assert entry["actor"] == "demo-soc-analyst"
    assert entry["before"]["detected_at"].startswith("2026-11-17T02:00:00")
    assert entry["after"]["detected_at"].startswith("2026-11-22T02:00:00")


def test_agency_responder_cannot_override_the_serious_flag(client: TestClient) -> None:
    number, version = _incident(client)
    url = f"/api/v1/incidents/{number}/serious"
    cleared = client.post(url, json={"serious": False, "reason": "không nghiêm trọng"},
                          headers={**QUYNHON, "If-Match": version})
    _forbidden(cleared, "body.serious")
    forced = client.post(url, json={"serious": True, "reason": "Lộ hồ sơ"},
                         headers={**ANALYST, "If-Match": version})
    assert ok(forced)["serious"] is True


def test_agency_filing_may_not_be_back_dated(client: TestClient) -> None:
    number, version = _incident(client)
    url = f"/api/v1/incidents/{number}/filings"
    on_time = (DETECTED + timedelta(days=1)).isoformat()  # before the 5-day deadline: would count as met
    back_dated = client.post(url, json={"kind": "incident_notice", "filed_at": on_time},
                             headers={**QUYNHON, "If-Match": version})
    _forbidden(back_dated, "body.filed_at")
    assert ok(client.get(f"/api/v1/incidents/{number}", headers=QUYNHON))["filings"] == []
    future = client.post(url, json={"kind": "incident_notice", "filed_at": (NOW + timedelta(hours=1)).isoformat(),
                                    "late_reason": "x"}, headers={**QUYNHON, "If-Match": version})
    assert ok(future, 422)["errors"][0]["field"] == "body.filed_at"
    # Sent a few minutes ago and recorded now: the agency may record it; it is late, so it needs the reason.
    just_sent = client.post(url, json={"kind": "incident_notice", "filed_at": (NOW - timedelta(minutes=5)).isoformat(),
                                       "late_reason": "Chờ xác minh"}, headers={**QUYNHON, "If-Match": version})
    filing = ok(just_sent)["filings"][0]
    assert filing["late"] is True and filing["actor"] == "demo-quynhon"
    clocks = {c["kind"]: c for c in ok(just_sent)["clocks"]}
    assert clocks["incident_notice"]["status"] == "late"

    # The SOC may record what it knows was sent earlier; the audit keeps who and when.
    other, other_version = _incident(client)
    filed = client.post(f"/api/v1/incidents/{other}/filings",
                        json={"kind": "incident_notice", "filed_at": on_time, "reference": "12/TB"},
                        headers={**ANALYST, "If-Match": other_version})
    assert ok(filed)["filings"][0]["late"] is False
    audit = ok(client.get(f"/api/v1/incidents/{other}", headers=ANALYST))["audit"]
    [entry] = [e for e in audit if e["action"] == "filing:incident_notice"]
    assert entry["actor"] == "demo-soc-analyst" and entry["before"] == {"filings": []}
    assert entry["after"]["filings"][0]["filed_at"].startswith("2026-11-18T02:00:00")
