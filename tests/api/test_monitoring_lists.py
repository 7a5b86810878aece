"""The monitoring report's incident lists are bounded: every incident of the day counted, the 50 most important
listed (highest severity, then the earliest), and the rest announced as "và N sự cố khác" in the page."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import IncidentCategory, Severity
from fastapi.testclient import TestClient

from tests.api.conftest import BINHDINH, NOW, ok
from tests.storage.test_contract import make_incident


def test_a_busy_day_lists_fifty_and_counts_the_rest(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.unit_of_work():
        for n in range(57):
            detected = NOW - timedelta(minutes=n)
            store.create_incident(make_incident(f"QNN-2026-9{n:05d}", agency="quynhon").model_copy(update={
                "detected_at": detected, "created": detected, "first_seen": detected, "last_seen": detected,
                "severity": Severity.critical if n in (5, 40) else Severity.medium,
                "categories": [IncidentCategory.attempt] if n % 2 else []}))
    store.refresh()
    report = ok(client.get("/api/v1/reports/monitoring?day=2026-11-23", headers=BINHDINH))
    opened = report["opened"]
    assert opened["total"] == 57 and opened["listed"] == 50 and opened["more"] == 7 and opened["truncated"]
    assert opened["by_severity"] == {"low": 0, "medium": 55, "high": 0, "critical": 2}
    assert opened["by_category"] == [{"key": "attempt", "count": 28}]
    assert opened["by_agency"] == [{"key": "Ủy ban nhân dân thành phố Quy Nhơn", "count": 57}]
    ids = [line["id"] for line in report["incidents_opened"]]
    # the critical ones first (the earlier of them first), then the earliest medium ones
    assert ids[:3] == ["QNN-2026-900040", "QNN-2026-900005", "QNN-2026-900056"] and len(ids) == 50
    assert report["closed"] == {"total": 0, "by_severity": dict.fromkeys(["low", "medium", "high", "critical"], 0),
                                "by_state": dict.fromkeys(["new", "acknowledged", "investigating", "contained",
                                                           "resolved", "closed"], 0),
                                "by_category": [], "by_agency": [], "listed": 0, "more": 0, "truncated": False}
    html = client.get("/api/v1/reports/monitoring?day=2026-11-23&format=html", headers=BINHDINH).text
    assert "và 7 sự cố khác" in html and html.count("QNN-2026-9") == 50
