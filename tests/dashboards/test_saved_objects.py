"""The saved objects for Kibana and OpenSearch Dashboards: every object they reference exists, every field a
data view, visualisation or query names is mapped by the index templates, and the CLI exports them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from canhgac.dashboards.exports import TARGETS, load
from canhgac.storage.elasticsearch.mappings import family_mappings

from canhgac.cli import main

#: A kuery term ``field : value``; the saved queries are plain ``field : (a or b)`` expressions.
KUERY_FIELD = re.compile(r"([@\w.]+)\s*:")


def _flat(properties: dict[str, Any], path: str = "") -> set[str]:
    out: set[str] = set()
    for name, mapping in properties.items():
        dotted = f"{path}{name}"
        if "properties" in mapping:
            out |= _flat(mapping["properties"], f"{dotted}.")
        elif mapping.get("index", True) is not False and mapping.get("enabled", True) is not False:
            out.add(dotted)
    return out


MAPPED = {family: _flat(body["properties"]) for family, body in family_mappings().items()}


def _family(title: str) -> str:
    """``canhgac-events-*`` → ``events``: the index family a data view covers."""
    match = re.fullmatch(r"canhgac-([a-z]+)(-\*)?", title)
    assert match, f"data view {title!r} is not over one of Canh Gác's index families"
    return match.group(1)


def referenced_fields(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(object id, index family, field) for every field the objects name."""
    views = {o["id"]: _family(o["attributes"]["title"]) for o in objects if o["type"] == "index-pattern"}
    out = [(o["id"], views[o["id"]], o["attributes"]["timeFieldName"]) for o in objects if o["type"] == "index-pattern"]
    for obj in objects:
        if obj["type"] != "visualization":
            continue
        [index_ref] = [r for r in obj["references"] if r["type"] == "index-pattern"]
        family = views[index_ref["id"]]
        state = json.loads(obj["attributes"]["visState"])
        out += [(obj["id"], family, agg["params"]["field"]) for agg in state["aggs"] if "field" in agg["params"]]
        source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        out += [(obj["id"], family, name) for name in KUERY_FIELD.findall(source["query"]["query"])]
    return out


def unmapped(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [ref for ref in referenced_fields(objects) if ref[2] not in MAPPED[ref[1]]]


@pytest.mark.parametrize("target", TARGETS)
def test_every_referenced_field_is_mapped_by_the_templates(target: str) -> None:
    objects = load(target)  # type: ignore[arg-type]
    references = referenced_fields(objects)
    assert len(references) >= 15
    assert {family for _, family, _ in references} == {"events", "alerts", "incidents"}
    assert unmapped(objects) == []


def test_the_check_catches_a_field_no_template_maps() -> None:
    objects = load("kibana")
    vis = next(o for o in objects if o["type"] == "visualization")
    state = json.loads(vis["attributes"]["visState"])
    state["aggs"][-1]["params"]["field"] = "attacker.favourite_colour"
    vis["attributes"]["visState"] = json.dumps(state)
    assert [ref[2] for ref in unmapped(objects)] == ["attacker.favourite_colour"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_reference_points_at_a_shipped_object(target: str) -> None:
    objects = load(target)  # type: ignore[arg-type]
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects)
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, (obj["id"], ref)
    [dashboard] = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"] for r in dashboard["references"]}
    assert len(panels) >= 6 and {p["panelRefName"] for p in panels} == names
    assert "Tổng quan SOC" in dashboard["attributes"]["title"]


def test_export_prints_the_objects_for_another_prefix(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert main(["dashboards", "export", "--target", "opensearch", "--prefix", "soc-hcm"]) == 0
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(objects) == len(load("opensearch"))
    titles = sorted(o["attributes"]["title"] for o in objects if o["type"] == "index-pattern")
    assert titles == ["soc-hcm-alerts", "soc-hcm-events-*", "soc-hcm-incidents"]
    assert all(o["id"].startswith("soc-hcm-") for o in objects)
    assert all(r["id"].startswith("soc-hcm-") for o in objects for r in o["references"])
    assert all("migrationVersion" in o for o in objects)


def test_export_writes_a_file_with_the_shipped_prefix(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "canhgac.ndjson"
    assert main(["dashboards", "export", "--output", str(out)]) == 0
    objects = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert objects == load("kibana")


def test_export_refuses_a_prefix_that_cannot_name_an_index(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboards", "export", "--prefix", "Bad Prefix"])
    assert exited.value.code == 2
    assert "--prefix" in capsys.readouterr().err
