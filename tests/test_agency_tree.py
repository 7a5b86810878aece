"""The agency tree as it stands in 2026 (two-tier local government since 1 July 2025): the example tree, the
validation of dissolved units, and the subtrees and successors the directory derives from them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from canhgac.core.config import AgencyLevel, Settings, parse_settings
from canhgac.core.directory import Directory
from canhgac.core.errors import ConfigErrors

from canhgac.cli import main

OLD_IDS = {"binhdinh", "binhdinh-stttt", "quynhon", "quynhon-tranphu", "quynhon-nhonbinh", "annhon", "annhon-dapda",
           "hoainhon", "hoainhon-bongson", "tuyphuoc", "phuyen", "songhinh", "songcau", "namdinh", "btttt"}
HEAD = "agencies:\n  - {id: tinh, code: TINH, level: province, name_vi: Tỉnh mới, name_en: New province}\n"


def agency_line(agency_id: str, code: str, level: str, **more: str) -> str:
    extra = "".join(f", {key}: {value}" for key, value in more.items())
    return f"  - {{id: {agency_id}, code: {code}, level: {level}, name_vi: Đơn vị, name_en: Unit{extra}}}\n"


def problems(text: str) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        parse_settings(text, "tree.yaml")
    return {error.field or "": str(error) for error in caught.value.errors}


def test_the_example_shows_the_current_tree_and_keeps_every_old_unit(settings: Settings) -> None:
    directory = Directory(settings)
    current = {a.id: a for a in settings.agencies if a.is_current}
    assert {a.id for a in current.values() if a.level is AgencyLevel.province} == {"gialai", "daklak", "ninhbinh"}
    assert not [a for a in current.values() if a.level is AgencyLevel.district]
    wards = [a for a in current.values() if a.level is AgencyLevel.commune]
    assert len(wards) >= 3 and all(current[w.parent].level is AgencyLevel.province for w in wards if w.parent)
    assert {"gialai-skhcn", "cucattt"} <= {a.id for a in current.values() if a.level is AgencyLevel.department}
    assert "Sở Khoa học và Công nghệ" in current["gialai-skhcn"].name_vi
    dissolved = {a.id: a for a in settings.agencies if not a.is_current}
    assert set(dissolved) >= OLD_IDS
    for agency in dissolved.values():
        assert agency.merged_into and agency.dissolved, agency.id
        assert directory.successor(agency.id).is_current, agency.id
    assert directory.successor("binhdinh-stttt").id == "gialai-skhcn"
    assert directory.successor("quynhon-tranphu").id == "gialai-quynhon"
    assert directory.successor("btttt").id == "bkhcn"
    assert dissolved["binhdinh"].dissolved == date(2025, 7, 1)


def test_a_subtree_holds_the_units_merged_into_it_and_old_units_keep_their_own(settings: Settings) -> None:
    directory = Directory(settings)
    assert {"binhdinh", "quynhon", "quynhon-tranphu", "annhon-dapda", "binhdinh-stttt"} <= directory.subtree("gialai")
    assert "phuyen" not in directory.subtree("gialai") and "songhinh" in directory.subtree("daklak")
    assert directory.subtree("gialai-quynhon") == {"gialai-quynhon", "quynhon-tranphu"}
    assert directory.subtree("gialai-skhcn") == {"gialai-skhcn", "binhdinh-skhcn", "binhdinh-stttt"}
    # A key of the old city still sees the old city's wards, and nothing of the new ones.
    assert directory.subtree("quynhon") == {"quynhon", "quynhon-tranphu", "quynhon-nhonbinh"}
    assert "gialai" not in directory.subtree("binhdinh")


def test_incidents_count_for_the_successor_at_the_successors_level(settings: Settings) -> None:
    directory = Directory(settings)
    assert directory.owner_at("quynhon-tranphu", AgencyLevel.commune) == "gialai-quynhon"
    assert directory.owner_at("quynhon-tranphu", AgencyLevel.province) == "gialai"
    assert directory.owner_at("quynhon", AgencyLevel.commune) is None  # a dissolved city belongs to no ward
    assert directory.owner_at("quynhon", AgencyLevel.district) is None
    assert directory.owner_at("binhdinh-stttt", AgencyLevel.department) == "gialai-skhcn"
    assert directory.owner_at("songcau", AgencyLevel.province) == "daklak"


def test_a_merger_chain_needs_both_dates_and_the_successor_outliving_the_unit() -> None:
    chain = (HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-07-01")
             + agency_line("so", "SO", "department", parent="cu", merged_into="cu", dissolved="2025-03-01"))
    assert Directory(parse_settings(chain, "tree.yaml")).successor("so").id == "tinh"
    undated = HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-07-01") + agency_line(
        "so", "SO", "department", merged_into="cu")
    assert "no longer exists" in problems(undated)["agencies[2].merged_into"]
    backwards = HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-03-01") + agency_line(
        "so", "SO", "department", merged_into="cu", dissolved="2025-07-01")
    assert "agencies[2].merged_into" in problems(backwards)


def test_a_current_unit_needs_a_current_parent_and_a_child_ends_with_its_parent() -> None:
    orphan = HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-07-01") + agency_line(
        "xa", "XA", "commune", parent="cu")
    assert "was dissolved on 2025-07-01" in problems(orphan)["agencies[2].parent"]
    late = HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-07-01") + agency_line(
        "xa", "XA", "commune", parent="cu", merged_into="tinh", dissolved="2025-08-01")
    assert "after its parent" in problems(late)["agencies[2].dissolved"]


@pytest.mark.parametrize("value", [(date.today() + timedelta(days=30)).isoformat(), "1900-01-01", "'1/7/2025'"])
def test_a_dissolution_date_must_be_a_real_past_date(value: str) -> None:
    text = HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved=value)
    assert "agencies[1].dissolved" in problems(text)


def test_merger_and_parent_links_cannot_form_a_loop() -> None:
    text = (agency_line("a", "AA", "province", merged_into="b", dissolved="2025-07-01")
            + agency_line("b", "BB", "district", parent="a"))
    assert "own ancestor" in " ".join(problems("agencies:\n" + text).values())


def test_config_check_names_the_line_of_a_dissolved_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tree.yaml"
    path.write_text(HEAD + agency_line("cu", "CU", "province", merged_into="tinh", dissolved="2025-07-01")
                    + agency_line("xa", "XA", "commune", parent="cu"), encoding="utf-8")
    assert main(["config", "check", str(path)]) == 1
    assert f"{path}:4: [agencies[2].parent]" in capsys.readouterr().err


def test_a_file_written_before_dissolution_dates_still_loads() -> None:
    text = HEAD + agency_line("cu", "CU", "province", merged_into="tinh") + agency_line("xa", "XA", "commune",
                                                                                     parent="cu")
    directory = Directory(parse_settings(text, "old.yaml"))
    assert directory.subtree("tinh") == {"tinh", "cu", "xa"}
    assert directory.owner_at("xa", AgencyLevel.commune) == "xa"
