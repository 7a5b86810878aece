"""``canhgac ingest`` with the file decoded (and rules matched) in a child process reports and stores what one
process does, and ``--resume`` continues from positions saved with the detection state (docs/decisions/0037)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from canhgac.collectors import reading
from canhgac.core.model import utcnow

from canhgac.cli import main
from canhgac.simulator import Portal, TrafficSimulator
from tests.cli.test_ingest import GARBAGE


@pytest.fixture
def traffic(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    simulator = TrafficSimulator([Portal("dvc-binhdinh", path)], tmp_path / "auth.log", seed=5)
    start = utcnow() - timedelta(hours=3)
    lines: list[str] = []
    for n in range(6000):
        at = start + timedelta(milliseconds=n * 60)
        if n % 150 == 0:
            lines += simulator.attack_lines(at)[1]
        if n % 1000 == 7:
            lines.append(GARBAGE)
        lines.append(simulator.citizen_line(at))
    path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines), encoding="utf-8")
    return path


def ingest(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    assert main(["ingest", str(path), "--source", "nginx", "--agency", "binhdinh", "--batch-size", "700",
                 "--json", *extra]) == 0
    summary = json.loads(capsys.readouterr().out)
    del summary["seconds"], summary["events_per_second"]
    return summary


def stored(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["incidents", "--format", "jsonl"]) == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return sorted(json.dumps({k: i.get(k) for k in ("title", "severity", "alert_ids", "event_ids", "rules")},
                             sort_keys=True) for i in found)


def test_a_child_process_ingests_exactly_what_one_process_does(
        traffic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CANHGAC_CONFIG", raising=False)
    results = []
    for variant in ("one process", "child", "child matches every batch"):
        parallel = variant != "one process"
        monkeypatch.setenv("CANHGAC_HOME", str(tmp_path / variant.replace(" ", "-")))
        monkeypatch.setattr(reading, "use_child_process", lambda path, offset, parallel=parallel: parallel)
        if variant == "child matches every batch":
            monkeypatch.setattr(reading, "_parent_busy", lambda queue: True)
        results.append((ingest(capsys, traffic), stored(capsys)))
    assert results[1] == results[0] and results[2] == results[0]
    alone, alone_incidents = results[0]
    assert alone["dead_letters"] >= 6 and alone["alerts"] > 0 and alone["incidents_created"] == len(alone_incidents) > 0


def test_resume_after_a_child_process_run_adds_nothing(
        traffic: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(reading, "use_child_process", lambda path, offset: True)
    first = ingest(capsys, traffic, "--resume")
    again = ingest(capsys, traffic, "--resume")
    assert first["events_stored"] > 6000 and again["lines"] == 0 and again["alerts"] == 0
