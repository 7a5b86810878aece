"""The 2026 agency tree through the API, on both stores: the new province's staff see the dissolved units'
old incidents, rankings have rows only for current units, and /agencies labels the dissolved ones."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, QUYNHON, FrozenClock, ok, open_incident

GIALAI = {"X-API-Key": "demo-gialai"}  # agency_viewer of the new Gia Lai province
PHUONG_QUYNHON = {"X-API-Key": "demo-phuong-quynhon"}  # agency_responder of the new phường Quy Nhơn


def numbers(client: TestClient, headers: dict[str, str]) -> set[str]:
    return {i["id"] for i in ok(client.get("/api/v1/incidents", headers=headers))}


def test_the_successors_staff_see_the_old_units_incidents(client: TestClient) -> None:
    old_ward = open_incident(client, agency="quynhon-tranphu", system=None).json()["id"]
    old_city = open_incident(client, agency="quynhon").json()["id"]
    old_department = open_incident(client, agency="binhdinh-stttt", system=None).json()["id"]
    new_ward = open_incident(client, agency="gialai-quynhon", system="cong-gialai-quynhon").json()["id"]
    other_province = open_incident(client, agency="phuyen", system="dvc-phuyen").json()["id"]

    assert numbers(client, GIALAI) == {old_ward, old_city, old_department, new_ward}
    assert numbers(client, PHUONG_QUYNHON) == {old_ward, new_ward}
    # The old keys keep exactly their old subtree.
    assert numbers(client, QUYNHON) == {old_ward, old_city}
    assert numbers(client, BINHDINH) == {old_ward, old_city, old_department}
    assert client.get(f"/api/v1/incidents/{other_province}", headers=GIALAI).status_code == 404
    assert client.get(f"/api/v1/incidents/{new_ward}", headers=QUYNHON).status_code == 404
    assert ok(client.get("/api/v1/posture", headers=GIALAI))["open_total"] == 4
    assert ok(client.get("/api/v1/posture", headers=PHUONG_QUYNHON))["open_total"] == 2


def test_rankings_have_rows_for_current_units_only(client: TestClient, clock: FrozenClock) -> None:
    open_incident(client, agency="quynhon-nhonbinh", severity="critical", system=None)
    open_incident(client, agency="namdinh", severity="low", system=None)
    clock.advance(hours=1)
    for level, expected in (("province", {"gialai", "daklak", "ninhbinh"}), ("ministry", {"bkhcn"}),
                            ("department", {"cucattt", "gialai-skhcn", "daklak-skhcn"}), ("district", set())):
        entries = ok(client.get(f"/api/v1/posture/ranking?level={level}", headers=ANALYST))["entries"]
        assert {e["agency"] for e in entries} == expected, level
    communes = ok(client.get("/api/v1/posture/ranking?level=commune", headers=ANALYST))["entries"]
    assert {e["agency"] for e in communes} == {"gialai-quynhon", "gialai-quynhondong", "gialai-annhon",
                                               "gialai-bongson", "gialai-tuyphuoc"}
    # Nhơn Bình's critical incident counts for phường Quy Nhơn Đông, the ward it became part of.
    by_id = {e["agency"]: e for e in communes}
    assert by_id["gialai-quynhondong"]["open_total"] == 1 and by_id["gialai-quynhondong"]["rank"] == 5
    assert by_id["gialai-quynhon"]["open_total"] == 0
    provinces = {e["agency"]: e for e in ok(client.get("/api/v1/posture/ranking", headers=ANALYST))["entries"]}
    assert (provinces["gialai"]["open_total"], provinces["ninhbinh"]["open_total"]) == (1, 1)
    # An agency key sees its own current unit's row; the old city's key has none of its own.
    assert [e["agency"] for e in ok(client.get("/api/v1/posture/ranking", headers=GIALAI))["entries"]] == ["gialai"]
    assert ok(client.get("/api/v1/posture/ranking", headers=BINHDINH))["entries"] == []


def test_agencies_label_dissolved_units_with_date_and_successor(client: TestClient) -> None:
    mine = {a["id"]: a for a in ok(client.get("/api/v1/agencies", headers=BINHDINH))}
    assert "gialai" not in mine  # the successor lies outside the old key's scope, its name still travels
    old = mine["binhdinh-stttt"]
    assert (old["current"], old["dissolved"], old["merged_into"], old["successor"]) == (
        False, "2025-03-01", "binhdinh-skhcn", "gialai-skhcn")
    assert old["successor_name_vi"] == "Sở Khoa học và Công nghệ tỉnh Gia Lai"
    assert mine["binhdinh"]["successor_name_en"] == "Gia Lai Provincial People's Committee"
    new = {a["id"]: a for a in ok(client.get("/api/v1/agencies", headers=PHUONG_QUYNHON))}
    assert set(new) == {"gialai-quynhon", "quynhon-tranphu"}
    assert (new["gialai-quynhon"]["current"], new["gialai-quynhon"]["dissolved"],
            new["gialai-quynhon"]["successor"]) == (True, None, None)
    assert new["quynhon-tranphu"]["successor_name_vi"] == "Ủy ban nhân dân phường Quy Nhơn"
