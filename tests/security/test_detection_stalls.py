"""Issue 9, item 5: nothing an attacker writes into a log can stall detection.

Each line below took seconds on the old engine (backtracking regexes) and grows exponentially or
polynomially with its length; with RE2 for rule regexes and linear parser patterns each is milliseconds.
The bounds are loose (a whole ingest of the line, process start excluded), the old times far above them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from canhgac.cli import main

SLOW = 3.0  # seconds for a whole `canhgac ingest` of one crafted line; the old engine needed 2.8 s to days


def ingest(tmp_path: Path, line: str, source: str) -> float:
    log = tmp_path / f"{source}.log"
    log.write_text(line + "\n", encoding="utf-8")
    started = time.perf_counter()
    assert main(["ingest", str(log), "--source", source, "--agency", "binhdinh"]) == 0
    return time.perf_counter() - started


def access(target: str) -> str:
    return f'203.0.113.7 - - [22/Nov/2026:15:04:05 +0700] "GET {target} HTTP/1.1" 200 512 "-" "Mozilla/5.0"'


@pytest.mark.parametrize("target", [
    # 8.7 s at 25 repetitions on the old SQL-injection rule, doubling with each more; 40 would take hours
    "/tim-kiem?s=select&q=union" + "/**/" * 40 + "x",
    # 2.8 s at 8,000 (so ~6 s here): quadratic in the run of '+' (decoded to spaces) after a quote
    "/tim-kiem?q='" + "+" * 12000,
    "/tim-kiem?q=%27" + "%20" * 6000 + "or",
])
def test_crafted_query_strings_do_not_stall_the_rules(home: Path, tmp_path: Path, target: str) -> None:
    assert ingest(tmp_path, access(target), "nginx") < SLOW


def test_the_pam_parser_is_not_cubic(home: Path, tmp_path: Path) -> None:
    # 9 s with 1,600 spaces on the old pattern
    line = "Nov 22 15:04:05 dvc-web01 sshd[811]: pam_unix(sshd:auth): authentication failure;" + " " * 4000 + "x"
    assert ingest(tmp_path, line, "sshd") < SLOW


def test_a_user_name_cannot_forge_the_source_address(home: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    line = ("Nov 22 15:04:05 dvc-web01 sshd[811]: Failed password for invalid user x from 10.0.0.1 port 22 "
            "from 198.51.100.23 port 50122 ssh2")
    ingest(tmp_path, line, "sshd")
    capsys.readouterr()
    assert main(["events", "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert '"source.ip":"198.51.100.23"' in out and '"source.ip":"10.0.0.1"' not in out
