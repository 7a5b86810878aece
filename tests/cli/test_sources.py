"""``canhgac sources`` and the collection options of ``canhgac ingest`` (.gz copies, --resume, formats)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.cli.test_ingest import BENIGN, GARBAGE, SQLI, jsonl, run
from tests.collectors import fixtures as fx


def test_sources_lists_counts_lag_and_dead_letters(home: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "access.log"
    path.write_text(BENIGN + GARBAGE + SQLI, encoding="utf-8")
    run(capsys, "ingest", str(path), "--source", "nginx", "--agency", "quynhon", "--json")
    _, out, _ = run(capsys, "sources", "--format", "jsonl")
    [status] = jsonl(out)
    assert status["id"] == f"ingest:{path.resolve()}" and status["events"] == 2 and status["dead_letters"] == 1
    assert status["lag_bytes"] == 0 and status["agency"] == "quynhon" and status["format"] == "nginx"
    _, table, _ = run(capsys, "sources")
    assert "dòng lỗi" in table and "quynhon" in table
    _, out, _ = run(capsys, "sources", "--format", "jsonl", "--agency", "phuyen")
    assert out == ""


def test_a_rotated_compressed_copy_gets_the_live_files_ids(home: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    live = tmp_path / "access.log"
    live.write_text(BENIGN + SQLI, encoding="utf-8")
    run(capsys, "ingest", str(live), "--source", "nginx", "--agency", "binhdinh", "--json")
    with gzip.open(tmp_path / "access.log.1.gz", "wt", encoding="utf-8") as out:
        out.write(BENIGN + SQLI)
    code, out, _ = run(capsys, "ingest", str(tmp_path / "access.log.1.gz"), "--source", "nginx", "--agency",
                       "binhdinh", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["events"] == 2 and summary["events_stored"] == 0  # the same events, by id


def test_resume_continues_after_the_last_committed_batch(home: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "access.log"
    path.write_text(BENIGN * 3, encoding="utf-8")
    args = ("ingest", str(path), "--source", "nginx", "--agency", "binhdinh", "--resume", "--json")
    assert json.loads(run(capsys, *args)[1])["lines"] == 3
    with path.open("a", encoding="utf-8") as out:
        out.write(SQLI)
    summary = json.loads(run(capsys, *args)[1])
    assert summary["lines"] == 1 and summary["alerts"] == 1


def test_every_format_is_accepted_and_unknown_ones_are_named(home: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gateway.jsonl"
    path.write_text("\n".join(fx.GATEWAY) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "ingest", str(path), "--source", "gateway", "--system", "lgsp-binhdinh", "--json")
    assert code == 0 and json.loads(out)["events_stored"] == 4
    code, _, err = run(capsys, "ingest", str(path), "--source", "iis-ftp", "--agency", "binhdinh")
    assert code == 2 and "known formats" in err and "fortigate" in err
