"""Posture of an agency subtree and the ranking, with a frozen clock; expected figures follow the documented
score formula (docs/decisions/0024-posture-score.md) step by step."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, QUYNHON, FrozenClock, etag, ok, open_incident


def move(client: TestClient, created_or_tag: str, number: str, body: dict) -> None:  # type: ignore[type-arg]
    ok(client.post(f"/api/v1/incidents/{number}/transition", json=body,
                   headers={**ANALYST, "If-Match": created_or_tag}))


def test_posture_and_ranking(client: TestClient, clock: FrozenClock) -> None:
    a = open_incident(client, agency="quynhon", severity="critical")
    b = open_incident(client, agency="quynhon-tranphu", severity="high", system=None)
    c = open_incident(client, agency="quynhon", severity="low")
    open_incident(client, agency="phuyen", severity="medium", system="dvc-phuyen")
    clock.advance(minutes=5)
    move(client, etag(c), c.json()["id"], {"state": "closed", "resolution": "false_positive"})
    clock.advance(minutes=5)
    move(client, etag(a), a.json()["id"], {"state": "acknowledged"})
    clock.advance(days=6, minutes=-10)

    mine = ok(client.get("/api/v1/posture", headers=QUYNHON))
    assert mine["agency"] == "quynhon" and mine["open_total"] == 2
    assert mine["open_by_severity"] == {"low": 0, "medium": 0, "high": 1, "critical": 1}
    assert mine["open_by_state"] == {"new": 1, "acknowledged": 1, "investigating": 0, "contained": 0}
    assert (mine["mtta_seconds"], mine["mttr_seconds"]) == (450, 300)
    assert (mine["sla_met"], mine["sla_missed"], mine["sla_compliance"]) == (3, 3, 0.5)
    kinds = sorted((o["incident_id"], o["kind"]) for o in mine["overdue"])
    assert kinds == sorted([(a.json()["id"], "resolve"), (a.json()["id"], "incident_notice"),
                            (b.json()["id"], "acknowledge"), (b.json()["id"], "resolve"),
                            (b.json()["id"], "incident_notice")])
    # 100 − (critical 10 + high 6) − min(30, 10 × 2 legal + 2 × 3 SLA) − 20 × (1 − 0.5) − 0 serious
    assert mine["score_parts"] == {"open_incidents": 16, "overdue": 26, "sla": 10, "serious": 0}
    assert mine["score"] == 48.0
    assert mine["top_rules"] == [{"key": "manual", "count": 3}]
    assert [d["opened"] for d in mine["trend"]][-7] == 3 and len(mine["trend"]) == 31

    ranking = ok(client.get("/api/v1/posture/ranking", headers=ANALYST))
    # Đắk Lắk: medium 3, overdue 10 + 2 × 2, compliance 0 → 100 − 3 − 14 − 20 = 63
    assert [(e["agency"], e["score"], e["rank"]) for e in ranking["entries"]] == [
        ("ninhbinh", 100.0, 1), ("daklak", 63.0, 2), ("gialai", 48.0, 3)]
    assert ok(client.get("/api/v1/posture/ranking", headers=QUYNHON))["entries"] == []
    # The district level ended on 1 July 2025: no district is ranked, Quy Nhơn city's key sees no row of its own.
    assert ok(client.get("/api/v1/posture/ranking?level=district", headers=ANALYST))["total"] == 0
    assert ok(client.get("/api/v1/posture/ranking?level=commune", headers=QUYNHON))["entries"] == []
    communes = ok(client.get("/api/v1/posture/ranking?level=commune", headers=ANALYST))
    # Trần Phú's incident counts for its successor, phường Quy Nhơn: high 6, overdue 10 + 2 × 2, compliance 0
    # → 100 − 6 − 14 − 20 = 60. Quy Nhơn city's own incidents belong to the province, to no ward.
    assert [(e["agency"], e["rank"], e["score"]) for e in communes["entries"]] == [
        ("gialai-annhon", 1, 100.0), ("gialai-bongson", 2, 100.0), ("gialai-quynhondong", 3, 100.0),
        ("gialai-tuyphuoc", 4, 100.0), ("gialai-quynhon", 5, 60.0)]
