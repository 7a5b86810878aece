"""``canhgac ingest`` and the exports, through the command line as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canhgac.cli import main

BENIGN = ('100.72.14.9 - - [22/Nov/2026:15:04:05 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%C4%91%C4%83ng'
          '+k%C3%BD+khai+sinh HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"\n')
SQLI = ('203.0.113.66 - - [22/Nov/2026:15:04:09 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%27%20UNION%20'
        'SELECT%20username,password%20FROM%20nguoi_dung-- HTTP/1.1" 500 312 "-" "Mozilla/5.0"\n')
GARBAGE = "this is not an access log line\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def access_log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text(BENIGN + SQLI + GARBAGE + BENIGN.replace("15:04:05", "15:04:11"), encoding="utf-8")
    return path


def test_sql_injection_line_becomes_one_alert_pointing_at_its_event(
        home: Path, access_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["events"] == 3 and summary["events_stored"] == 3
    assert summary["dead_letters"] == 1 and summary["alerts"] == 1 and summary["incidents_created"] == 1

    _, out, _ = run(capsys, "alerts", "--format", "jsonl")
    [alert] = jsonl(out)
    assert alert["agency"] == "binhdinh" and alert["entities"]["source.ip"] == "203.0.113.66"
    _, out, _ = run(capsys, "events", "--format", "jsonl")
    events = {e["event.id"]: e for e in jsonl(out)}
    [evidence] = [events[i] for i in alert["event_ids"]]
    assert evidence["log.offset"] == len(BENIGN.encode())  # the SQL-injection line's byte offset
    assert evidence["log.file.path"] == str(access_log.resolve())
    assert evidence["organization.id"] == "binhdinh"

    _, out, _ = run(capsys, "dead-letters", "--format", "jsonl")
    [letter] = jsonl(out)
    assert letter["offset"] == len((BENIGN + SQLI).encode()) and letter["raw"] == GARBAGE.strip()
    assert letter["path"] == str(access_log.resolve()) and letter["reason"]


def test_ingesting_the_same_file_twice_adds_nothing(home: Path, access_log: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    code, out, _ = run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["events"] == 3
    assert summary["events_stored"] == 0 and summary["alerts"] == 0 and summary["incidents_created"] == 0
    assert summary["dead_letters"] == 1 and summary["dead_letters_stored"] == 0
    _, out, _ = run(capsys, "events", "--format", "jsonl")
    assert len(jsonl(out)) == 3
    _, out, _ = run(capsys, "alerts", "--format", "jsonl")
    assert len(jsonl(out)) == 1


def test_human_summary_is_vietnamese_by_default_and_english_on_request(
        home: Path, access_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, out, _ = run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "binhdinh")
    assert "Đã nhập 1 tệp (4 dòng)" in out and "sự kiện/giây" in out
    assert "Dòng lỗi (dead letter):" in out and "Cảnh báo mới:" in out and "Sự cố mới:" in out
    monkeypatch.setenv("CANHGAC_LANG", "en")
    _, out, _ = run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "binhdinh")
    assert "Ingested 1 file(s) (4 lines)" in out and "events/s" in out and "Dead letters:" in out


def test_incidents_table_uses_agency_names_and_local_time(home: Path, access_log: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "quynhon", "--json")
    _, out, _ = run(capsys, "incidents")
    assert "QNN-2026-000001" in out and "Ủy ban nhân dân thành phố Quy Nhơn" in out and "(GMT+7)" in out
    _, out, _ = run(capsys, "incidents", "--format", "jsonl", "--agency", "phuyen")
    assert out == ""
    _, out, _ = run(capsys, "incidents", "--format", "jsonl", "--agency", "gialai")
    assert [i["id"] for i in jsonl(out)] == ["QNN-2026-000001"]


def test_unknown_agency_or_missing_file_is_a_clear_error(home: Path, access_log: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", str(access_log), "--source", "nginx", "--agency", "atlantis")
    assert code == 2 and "atlantis" in err
    code, _, err = run(capsys, "ingest", str(access_log), "--source", "nginx")
    assert code == 2 and "--agency" in err
    code, _, err = run(capsys, "ingest", str(access_log) + ".missing", "--source", "nginx", "--agency", "binhdinh")
    assert code == 2 and ".missing" in err


def test_system_option_sets_the_agency(home: Path, access_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(access_log), "--source", "nginx", "--system", "dvc-phuyen", "--json")
    _, out, _ = run(capsys, "events", "--format", "jsonl", "--agency", "daklak")
    events = jsonl(out)
    assert len(events) == 3 and {e["service.id"] for e in events} == {"dvc-phuyen"}
    assert {e["organization.id"] for e in events} == {"phuyen"}
