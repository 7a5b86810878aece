"""Finding: with ``--agency binhdinh``, a request line with the absolute-form target ``http://dichvucong.gov.vn/…``
put the national portal's system (security level 4) on a Bình Định incident. A system named by a line (its host
name or its server address) is attached only when it belongs to the event's own agency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canhgac.cli import main

SQLI = ('203.0.113.66 - - [22/Nov/2026:15:04:09 +0700] "GET {target}/tra-cuu?tu_khoa=%27%20UNION%20'
        'SELECT%20username,password%20FROM%20nguoi_dung-- HTTP/1.1" 500 312 "-" "Mozilla/5.0"\n')
UFW = ("Nov 22 15:11:00 fw kernel: [123456.789012] [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.5 DST={dst} LEN=60 "
       "TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0\n")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:  # type: ignore[type-arg]
    assert main(list(argv)) == 0
    out, _ = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def _ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fmt: str, agency: str) -> None:
    log = tmp_path / f"{fmt}-{agency}-{abs(hash(text))}.log"
    log.write_text(text, encoding="utf-8")
    _run(capsys, "ingest", str(log), "--source", fmt, "--agency", agency, "--json")


def _systems_by_target(capsys: pytest.CaptureFixture[str]) -> dict[str, str | None]:
    return {e.get("url.domain") or e.get("destination.ip"): e.get("service.id")
            for e in _run(capsys, "events", "--format", "jsonl")}


def test_absolute_target_of_another_agency_attaches_no_system(home: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _ingest(tmp_path, capsys, SQLI.format(target="http://dichvucong.gov.vn"), "nginx", "binhdinh")
    [alert] = _run(capsys, "alerts", "--format", "jsonl")
    assert alert["agency"] == "binhdinh" and alert["system"] is None
    [incident] = _run(capsys, "incidents", "--format", "jsonl")
    assert incident["agency"] == "binhdinh" and incident["system"] is None
    assert _systems_by_target(capsys) == {"dichvucong.gov.vn": None}


def test_a_system_of_the_event_agency_is_still_attached_and_no_other(home: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _ingest(tmp_path, capsys, SQLI.format(target="http://dichvucong.binhdinh.gov.vn")
            + SQLI.format(target="https://quynhon.binhdinh.gov.vn"), "nginx", "binhdinh")
    _ingest(tmp_path, capsys, SQLI.format(target="http://motcua.binhdinh.gov.vn"), "nginx", "quynhon")
    # Server addresses: 10.52.0.20 is Bình Định's portal, 10.10.0.5 the national portal's.
    _ingest(tmp_path, capsys, UFW.format(dst="10.52.0.20") + UFW.format(dst="10.10.0.5"), "netfilter", "binhdinh")
    assert _systems_by_target(capsys) == {
        "dichvucong.binhdinh.gov.vn": "dvc-binhdinh",
        "quynhon.binhdinh.gov.vn": None,  # Quy Nhơn's portal: below Bình Định, but not Bình Định's own
        "motcua.binhdinh.gov.vn": None,  # Bình Định's, named in a Quy Nhơn log
        "10.52.0.20": "dvc-binhdinh",
        "10.10.0.5": None,
    }
