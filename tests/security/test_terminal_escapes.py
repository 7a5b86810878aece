"""Log content cannot drive the analyst's terminal: escape sequences, other control characters and bidi
overrides in stored text are shown escaped in every CLI table, and JSON lines stay exact JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from canhgac.core.model import Incident, Severity
from canhgac.storage.sqlite import SqliteStore

from canhgac.cli import main

#: A window-title OSC, a colour CSI, a terminal reset, 8-bit CSI (C1), a bidi override, BEL, DEL, backspace.
HOSTILE = "\x1b]0;owned\x07\x1b[31mred\x1bc\u009b2J\u202eevil\x08\x7f"
#: What may never reach a terminal raw.
FORBIDDEN = ["\x1b", "\x07", "\u009b", "\u202e", "\x08", "\x7f"]
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    return out + err


def assert_inert(text: str) -> None:
    leaked = [repr(c) for c in FORBIDDEN if c in text]
    assert not leaked, f"raw control characters reached the terminal: {leaked}"


@pytest.fixture
def hostile_log(home: Path, tmp_path: Path) -> Path:
    log = tmp_path / "access.log"
    attack = ('203.0.113.66 - - [22/Nov/2026:15:04:09 +0700] "GET /tra-cuu?tu_khoa=%27%20UNION%20SELECT%20'
              f'username,password%20FROM%20nguoi_dung-- HTTP/1.1" 500 312 "-" "{HOSTILE}"\n')
    probe = f'203.0.113.67 - - [22/Nov/2026:15:04:10 +0700] "GET /{HOSTILE} HTTP/1.1" 404 0 "-" "-"\n'
    log.write_text(f"not an access log line {HOSTILE}\n" + attack + probe, encoding="utf-8")
    return log


def test_dead_letters_table_shows_escapes_instead_of_sending_them(hostile_log: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(hostile_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    table = run(capsys, "dead-letters")
    assert "not an access log line" in table
    assert_inert(table)
    assert "\\x1b]0;owned\\x07" in table and "\\u202e" in table and "\\x9b" in table  # visible, not silent


def test_event_and_alert_tables_are_inert(hostile_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(hostile_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    events = run(capsys, "events")
    assert "GET /\\x1b]0;owned" in events
    assert_inert(events)
    alerts = run(capsys, "alerts")
    assert "203.0.113.66" in alerts
    assert_inert(alerts)


def test_incident_titles_are_inert_in_the_table(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SqliteStore(home / "canhgac.db")
    try:
        store.create_incident(Incident(id="BDH-2026-000001", agency="binhdinh", title=f"Dò quét {HOSTILE}",
                                       severity=Severity.high, fingerprint="f", rule_id="r", first_seen=T0,
                                       last_seen=T0))
    finally:
        store.close()
    table = run(capsys, "incidents")
    assert "BDH-2026-000001" in table and "Dò quét" in table
    assert_inert(table)


def test_json_lines_stay_exact_json_and_inert(hostile_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", str(hostile_log), "--source", "nginx", "--agency", "binhdinh", "--json")
    for command in ("events", "dead-letters", "alerts"):
        out = run(capsys, command, "--format", "jsonl")
        assert_inert(out)
        rows = [json.loads(line) for line in out.splitlines()]
        assert rows
        if command != "alerts":
            assert any(HOSTILE in str(value) for row in rows for value in row.values())  # the data is unchanged
