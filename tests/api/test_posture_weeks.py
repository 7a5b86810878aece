"""GET /posture: the weeks (opened, open at the week's end, MTTA, MTTR), with a frozen clock."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, QUYNHON, FrozenClock, etag, ok, open_incident


def move(client: TestClient, response_etag: str, number: str, body: dict) -> None:  # type: ignore[type-arg]
    ok(client.post(f"/api/v1/incidents/{number}/transition", json=body,
                   headers={**ANALYST, "If-Match": response_etag}))


def test_weeks_follow_opening_acknowledging_and_closing(client: TestClient, clock: FrozenClock) -> None:
    # NOW is Monday 23 November 2026, 09:00 in Hà Nội: weeks start on Mondays, Vietnam time.
    first = open_incident(client, agency="quynhon", severity="high")
    clock.advance(minutes=30)
    move(client, etag(first), first.json()["id"], {"state": "acknowledged"})
    second = open_incident(client, agency="quynhon", severity="low")
    clock.advance(hours=2)
    move(client, etag(second), second.json()["id"], {"state": "closed", "resolution": "benign"})
    clock.advance(days=7)  # the next Monday
    open_incident(client, agency="phuyen", severity="medium", system="dvc-phuyen")
    clock.advance(days=1)

    found = ok(client.get("/api/v1/posture?days=56", headers=ANALYST))["weeks"]
    assert len(found) >= 8 and [w["week_start"] for w in found[-2:]] == ["2026-11-23", "2026-11-30"]
    assert all(date.fromisoformat(w["week_start"]).weekday() == 0 for w in found)
    assert all(w["opened"] == 0 and w["open_at_end"] == 0 for w in found[:-2])
    week, last = found[-2], found[-1]
    # acknowledged after 30 minutes; the second left "new" (closed) 2 hours after its detection: (30 + 120) / 2
    assert (week["opened"], week["open_at_end"], week["mtta_minutes"]) == (2, 1, 75.0)
    assert week["mttr_hours"] == 2.0
    assert (last["opened"], last["open_at_end"], last["mtta_minutes"], last["mttr_hours"]) == (1, 2, None, None)
    mine = ok(client.get("/api/v1/posture?days=14", headers=QUYNHON))["weeks"]
    assert [w["opened"] for w in mine[-2:]] == [2, 0] and mine[-1]["open_at_end"] == 1
    assert timedelta(days=14) <= timedelta(weeks=len(mine))
