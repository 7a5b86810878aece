"""The simulated month of one-stop and gateway activity with labelled leak scenarios (canhgac/leak_simulator.py),
read back as files and through ``canhgac ingest``, and the leak bench's scoring of alerts against the labels."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from canhgac.core.timeutil import VIETNAM

from canhgac.cli import main
from canhgac.leak_scenarios import KINDS
from canhgac.leak_simulator import Manifest, generate, last_local_midnight

END = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # local midnight, 2 December 2026
BENCH = Path(__file__).resolve().parents[2] / "bench" / "leak_detection.py"


def small_month(out: Path, seed: int = 3) -> Manifest:
    """The small fixture month others can reuse: 20 officials, 5 API clients, 10 days."""
    return generate(out, seed=seed, days=10, officials=20, clients=5, end=END)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return small_month(tmp_path_factory.mktemp("month"))


_READ: dict[tuple[Path, str], list[dict[str, Any]]] = {}


def records(manifest: Manifest, fmt: str) -> list[dict[str, Any]]:
    if (manifest.out_dir, fmt) in _READ:
        return _READ[manifest.out_dir, fmt]
    lines = _READ[manifest.out_dir, fmt] = []
    for item in manifest.files:
        if item["format"] == fmt:
            text = (manifest.out_dir / item["path"]).read_text(encoding="utf-8")
            lines += [{**json.loads(line), "_agency": item["agency"]} for line in text.splitlines()]
    return lines


def when(record: dict[str, Any]) -> datetime:
    if "ts" in record:
        return datetime.fromtimestamp(record["ts"] / 1000, UTC)
    return datetime.fromisoformat(record["thoi_gian"])


def of_label(manifest: Manifest, label: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The entity's lines inside the scenario's window, and all its other lines."""
    entity, inside, outside = label["entity"], [], []
    start, end = datetime.fromisoformat(label["start"]), datetime.fromisoformat(label["end"])
    fmt = "gateway" if entity["kind"] == "client" else "onestop"
    for record in records(manifest, fmt):
        if record["_agency"] != label["agency"]:
            continue
        if fmt == "gateway":
            consumer = record["consumer"]
            mine = consumer.get("account") == entity["id"] and consumer["system"] == entity["system"]
        else:
            mine = record["can_bo"]["tai_khoan"] == entity["id"]
        if mine:
            (inside if start <= when(record) <= end else outside).append(record)
    return inside, outside


def by_kind(manifest: Manifest, kind: str) -> list[dict[str, Any]]:
    found = [label for label in manifest.labels if label["kind"] == kind]
    assert found, kind
    return found


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path: Path, month: Manifest) -> None:
    again = small_month(tmp_path / "again")
    other = small_month(tmp_path / "other", seed=4)
    names = sorted(p.relative_to(month.out_dir) for p in month.out_dir.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again.out_dir) for p in again.out_dir.rglob("*") if p.is_file())
    assert Path("labels.json") in names and Path("manifest.json") in names
    for name in names:
        assert (month.out_dir / name).read_bytes() == (again.out_dir / name).read_bytes(), name
    assert (other.out_dir / "labels.json").read_bytes() != (month.out_dir / "labels.json").read_bytes()
    assert (other.out_dir / "gialai" / "onestop.jsonl").read_bytes() != (
        month.out_dir / "gialai" / "onestop.jsonl").read_bytes()


def test_the_default_end_is_the_last_local_midnight() -> None:
    assert last_local_midnight(datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == END  # 23:30 on 2 December, local
    assert last_local_midnight(datetime(2026, 12, 2, 17, 30, tzinfo=UTC)) == END + timedelta(days=1)


def test_manifest_lists_the_files_entities_and_entity_days(month: Manifest) -> None:
    data = json.loads((month.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert data["start"] == "2026-11-21T17:00:00.000Z" and data["end"] == "2026-12-01T17:00:00.000Z"
    for item in data["files"]:
        text = (month.out_dir / item["path"]).read_text(encoding="utf-8")
        assert len(text.splitlines()) == item["lines"] > 0
        stamps = [when(json.loads(line)) for line in text.splitlines()]
        assert stamps == sorted(stamps) and END - timedelta(days=10) <= stamps[0] and stamps[-1] < END
    kinds = Counter(e["kind"] for e in data["entities"])
    assert kinds == {"official": 20, "client": 5}
    assert {e["role"] for e in data["entities"] if e["kind"] == "official"} >= {
        "tiếp nhận hồ sơ", "chuyên viên thẩm định", "lãnh đạo", "văn thư lưu trữ"}
    assert data["entity_days"] == sum(e["days"] for e in data["entities"]) > data["benign_entity_days"] > 100


def test_officials_work_office_hours_from_their_own_network(month: Manifest) -> None:
    scenario = {label["entity"]["id"] for label in month.labels}
    hours: Counter[int] = Counter()
    networks: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records(month, "onestop"):
        if record["can_bo"]["tai_khoan"] in scenario:
            continue
        local = when(record).astimezone(VIETNAM)
        hours[local.hour] += 1
        networks[record["can_bo"]["tai_khoan"]][record["dia_chi_ip"].rsplit(".", 1)[0]] += 1
        assert record["can_bo"]["vai_tro"] and record.get("ho_so", {}).get("don_vi", record["don_vi"]["ma"])
    total = sum(hours.values())
    assert sum(hours[h] for h in (7, 8, 9, 10, 11, 13, 14, 15, 16)) / total > 0.95
    assert sum(hours[h] for h in range(0, 6)) == 0
    for account, seen in networks.items():
        assert seen.most_common(1)[0][1] / sum(seen.values()) > 0.7, account


def test_every_scenario_kind_is_labelled_and_its_lines_are_in_the_files(month: Manifest) -> None:
    assert {label["kind"] for label in month.labels} == set(KINDS) and len(month.labels) >= 7
    for label in month.labels:
        inside, _ = of_label(month, label)
        assert len(inside) >= label["lines"] > 0, label["id"]
        assert label["description"] and label["description_en"]


def test_burst_export_and_mass_printing_are_as_big_as_labelled(month: Manifest) -> None:
    for label in by_kind(month, "burst_export"):
        inside, _ = of_label(month, label)
        exports = [r for r in inside if r["hanh_dong"] == "XUAT_DU_LIEU"]
        assert sum(r["ho_so"]["so_luong"] for r in exports) == label["size"]["records"]
        assert datetime.fromisoformat(label["end"]) - datetime.fromisoformat(label["start"]) < timedelta(hours=1)
    for label in by_kind(month, "mass_printing"):
        inside, outside = of_label(month, label)
        prints = Counter(when(r).astimezone(VIETNAM).date() for r in inside if r["hanh_dong"] == "IN_HO_SO")
        assert min(prints.values()) >= label["size"]["prints_per_day"]
        last = datetime.fromisoformat(label["end"]).astimezone(VIETNAM).date()
        assert all(when(r).astimezone(VIETNAM).date() <= last for r in outside)  # then gone


def test_enumeration_walks_consecutive_dossier_ids(month: Manifest) -> None:
    for label in by_kind(month, "enumeration"):
        inside, _ = of_label(month, label)
        ids = [r["ho_so"]["ma"] for r in inside if r["hanh_dong"] == "XEM_HO_SO"]
        numbers = defaultdict(set)  # dossiers of one unit and day: their numbers
        for record in ids:
            head, number = record.rsplit("-", 1)
            numbers[head].add(int(number))
        in_runs = sum(1 for seen in numbers.values() for n in seen  # in a run of at least 5 consecutive numbers
                      if any(all(m in seen for m in range(first, first + 5)) for first in range(n - 4, n + 1)))
        assert in_runs >= label["lines"] >= 30
        assert all(re.fullmatch(r"H\d\d\.\d\d\.\d\d-\d{6}-\d{4}", i) for i in ids)


def test_the_stolen_account_comes_at_night_from_a_network_and_browser_never_seen(month: Manifest) -> None:
    for label in by_kind(month, "stolen_account_night"):
        inside, outside = of_label(month, label)
        assert {r["dia_chi_ip"] for r in inside}.isdisjoint(r["dia_chi_ip"] for r in outside)
        assert {r["trinh_duyet"] for r in inside}.isdisjoint(r["trinh_duyet"] for r in outside)
        local = {when(r).astimezone(VIETNAM).hour for r in inside}
        assert local <= {20, 21, 22, 23, 0, 1, 2, 3, 4, 5}
        assert sum(r["hanh_dong"] in ("XEM_HO_SO", "TAI_HO_SO") for r in inside) >= label["size"]["records"]


def test_outside_unit_reads_dossiers_of_another_unit(month: Manifest) -> None:
    for label in by_kind(month, "outside_unit"):
        inside, outside = of_label(month, label)
        foreign = [r for r in inside if r.get("ho_so") and r["ho_so"]["don_vi"] != r["don_vi"]["ma"]]
        assert len({r["ho_so"]["ma"] for r in foreign}) >= label["size"]["records"] * 0.9
        for record in foreign:  # unit 000.02.34.H08 numbers its dossiers H08.34.02-yymmdd-nnnn
            _, part, agency, province = record["ho_so"]["don_vi"].split(".")
            assert record["ho_so"]["ma"].startswith(f"{province}.{agency}.{part}-")
        usual = [r for r in outside if r.get("ho_so")]
        assert sum(r["ho_so"]["don_vi"] != r["don_vi"]["ma"] for r in usual) / len(usual) < 0.1


def test_slow_exfiltration_and_scraping_raise_the_entity_above_its_own_normal(month: Manifest) -> None:
    for label in by_kind(month, "slow_exfiltration"):
        inside, outside = of_label(month, label)
        start = datetime.fromisoformat(label["start"])
        hourly = [Counter(when(r).astimezone(VIETNAM).strftime("%d %H") for r in rows if r["hanh_dong"] == "TAI_HO_SO")
                  for rows in (inside, [r for r in outside if when(r) < start])]
        assert sum(hourly[0].values()) >= label["lines"] > 0
        assert max(hourly[0].values()) <= 2 * max(hourly[1].values())  # no hour that stands out on its own
    for label in by_kind(month, "api_scraping"):
        inside, outside = of_label(month, label)
        span = datetime.fromisoformat(label["end"]) - datetime.fromisoformat(label["start"])
        start_hour = datetime.fromisoformat(label["start"]).astimezone(VIETNAM).hour
        other_days = Counter(when(r).astimezone(VIETNAM).date() for r in outside
                             if start_hour <= when(r).astimezone(VIETNAM).hour < start_hour + span.seconds // 3600
                             and when(r).astimezone(VIETNAM).weekday() < 5)
        assert len(inside) > 2 * max(other_days.values())


def test_the_files_ingest_with_the_shipped_mappings_without_dead_letters(
        home: Path, month: Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    for item in month.files:
        code = main(["ingest", str(month.out_dir / item["path"]), "--source", item["format"], "--agency",
                     item["agency"], "--json"])
        summary = json.loads(capsys.readouterr().out)
        assert code == 0 and summary["dead_letters"] == 0 and summary["events"] == item["lines"], item
    assert main(["events", "--format", "jsonl", "--agency", "gialai-skhcn", "--since", "30d"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    views = [e for e in events if e.get("event.action") == "dossier-view"]
    assert views and all(e["user.roles"] and e["egov.record.unit"] and e["egov.record.ids"] for e in views)
    assert not [e for e in events if "invalid_fields" in (e.get("tags") or [])]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("leak_detection", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_bench_matches_alerts_to_scenarios_by_agency_entity_and_window(
        month: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench()
    official = next(label for label in month.labels if label["kind"] == "burst_export")
    client = next(label for label in month.labels if label["kind"] == "api_scraping")

    def alert(label: dict[str, Any], shift: timedelta, **entities: str) -> dict[str, Any]:
        start = datetime.fromisoformat(label["start"]) + shift
        return {"detector": "behaviour", "rule_id": "canhgac-behaviour-volume", "agency": label["agency"],
                "entities": entities, "first_seen": start.isoformat(), "last_seen": start.isoformat(),
                "details": {"window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
                            "detected_at": (start + timedelta(minutes=70)).isoformat(), "findings": []}}

    alerts = [alert(official, timedelta(0), **{"user.name": official["entity"]["id"]}),
              alert(official, timedelta(days=-3), **{"user.name": official["entity"]["id"]}),  # before: false
              alert(client, timedelta(hours=2), **{"user.name": client["entity"]["id"],
                                                   "egov.caller.system": "another-system"}),  # not this client
              alert(client, timedelta(hours=20), **{"user.name": client["entity"]["id"],
                                                    "egov.caller.system": client["entity"]["system"]})]
    result = bench.score(alerts, month.labels, 2000)
    found = {o.label["id"]: o for o in result.outcomes if o.detected}
    assert set(found) == {official["id"], client["id"]}
    assert found[official["id"]].minutes == pytest.approx(70, abs=0.1)
    assert found[client["id"]].minutes == pytest.approx(20 * 60 + 70, abs=0.1)
    assert len(result.false_alerts) == 2 and result.false_per_1000 == pytest.approx(1.0)
    line = result.result_line()
    assert line.startswith(f"RESULT scenarios_detected=2/{len(month.labels)} false_per_1000_entity_days=1.00 ")
    assert line.endswith("kinds_detected=2/7")

    fake = tmp_path / "alerts.jsonl"
    fake.write_text("".join(json.dumps(a) + "\n" for a in alerts), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["leak_detection.py", "--data", str(month.out_dir), "--alerts", str(fake)])
    bench.main()
    out = capsys.readouterr().out.splitlines()
    expected = f"{1000 * 2 / month.data['benign_entity_days']:.2f}"
    assert out[-1].startswith(f"RESULT scenarios_detected=2/{len(month.labels)} false_per_1000_entity_days={expected}")
    assert any(row.startswith(official["id"]) and " yes " in row for row in out)
