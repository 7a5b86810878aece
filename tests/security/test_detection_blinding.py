"""Issue 9, item 6: nothing an attacker writes into a log can blind detection.

One line with a forged far-future time, from one agency, used to move the correlation watermark of every
agency, so that a real SSH brute force elsewhere minutes later was "late" and raised nothing (also after a
restart, as the watermark was checkpointed). Watermarks are now per correlation group, and times beyond a
small future tolerance are not believed (the event is kept at its arrival time, tagged).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from canhgac.cli import main

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def bsd(moment: datetime) -> str:
    local = moment.astimezone(LOCAL)
    return f"{local:%b} {local.day:>2} {local:%H:%M:%S}"


def brute_force(start: datetime) -> str:
    return "".join(f"{bsd(start + timedelta(seconds=3 * n))} dvc-web01 sshd[{2000 + n}]: Failed password for root "
                   f"from 203.0.113.45 port {40000 + n} ssh2\n" for n in range(12))


def alerts(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["alerts", "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.mark.parametrize("forged", [
    "<38>1 2099-01-01T00:00:00+07:00 dvc-quynhon sshd 811 - - Failed password for root from 198.51.100.9 port 1 ssh2",
    "{when} dvc-quynhon sshd[811]: Failed password for root from 198.51.100.9 port 1 ssh2",
])
def test_a_forged_future_time_in_one_agency_does_not_blind_another(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], forged: str) -> None:
    now = datetime.now(UTC)
    quynhon = tmp_path / "quynhon.log"
    quynhon.write_text(forged.format(when=bsd(now + timedelta(hours=40))) + "\n", encoding="utf-8")
    source = "syslog" if forged.startswith("<") else "sshd"
    assert main(["ingest", str(quynhon), "--source", source, "--agency", "quynhon"]) == 0

    # a separate run: the correlation state went through its checkpoint, as after a restart
    binhdinh = tmp_path / "auth.log"
    binhdinh.write_text(brute_force(now - timedelta(minutes=3)), encoding="utf-8")
    assert main(["ingest", str(binhdinh), "--source", "sshd", "--agency", "binhdinh"]) == 0

    found = [a for a in alerts(capsys) if a["rule_title"] == "SSH Brute Force"]
    assert [a["agency"] for a in found] == ["binhdinh"]
    assert found[0]["entities"]["source.ip"] == "203.0.113.45"


def test_a_future_time_is_kept_at_arrival_and_flagged(home: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "auth.log"
    log.write_text("<38>1 2099-01-01T00:00:00+07:00 dvc-web01 sshd 811 - - Accepted password for an from "
                   "10.52.0.15 port 50110 ssh2\n", encoding="utf-8")
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert main(["ingest", str(log), "--source", "syslog", "--agency", "binhdinh"]) == 0
    capsys.readouterr()
    assert main(["events", "--format", "jsonl"]) == 0
    [event] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    stored = datetime.fromisoformat(event["@timestamp"].replace("Z", "+00:00"))
    assert before <= stored <= datetime.now(UTC) + timedelta(seconds=1)
    assert "future_timestamp" in event["tags"]
    assert event["labels.claimed_timestamp"].startswith("2098-12-31T17:00:00")


def sources(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["sources", "--format", "jsonl"]) == 0
    return {row["path"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}


def test_future_and_late_events_are_counted_per_source(home: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    ahead = tmp_path / "ahead.log"
    ahead.write_text(f"{bsd(now + timedelta(hours=40))} dvc-web01 sshd[9]: Failed password for root from "
                     "198.51.100.9 port 1 ssh2\n", encoding="utf-8")
    behind = tmp_path / "behind.log"
    behind.write_text("".join(f"{bsd(now - timedelta(minutes=minutes))} dvc-web01 sshd[9]: Failed password for root "
                              f"from 203.0.113.45 port {minutes} ssh2\n" for minutes in (1, 30)), encoding="utf-8")
    for log in (ahead, behind):
        assert main(["ingest", str(log), "--source", "sshd", "--agency", "binhdinh"]) == 0
    found = sources(capsys)
    assert found[str(ahead.resolve())]["future_time"] == 1 and found[str(ahead.resolve())]["late"] == 0
    assert found[str(behind.resolve())]["late"] >= 1 and found[str(behind.resolve())]["future_time"] == 0
    capsys.readouterr()
    assert main(["sources"]) == 0
    table = capsys.readouterr().out
    assert "giờ tương lai" in table and "đến muộn" in table
