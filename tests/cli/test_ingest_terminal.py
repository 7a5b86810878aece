"""``canhgac ingest`` on a terminal: a progress bar only when stderr is one, and a hint when the lines do not
look like the ``--source`` given."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from canhgac.cli import main
from tests.collectors.support import access_line

SSHD = "".join(f"Nov 22 15:10:{second:02d} dvc-web01 sshd[{4000 + second}]: Failed password for root from "
               f"198.51.100.7 port {50000 + second} ssh2\n" for second in range(40))


def _ingest_with_stderr_on_a_terminal(log: Path) -> tuple[int, str, str]:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    process = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "ingest", str(log), "--source", "nginx",
                                "--agency", "gialai", "--batch-size", "500"], stdout=subprocess.PIPE,
                               stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        seen += chunk
    out = process.stdout.read() if process.stdout else ""
    os.close(leader)
    return process.wait(timeout=60), out, seen.decode(errors="replace")


def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(access_line(n) for n in range(5000)), encoding="utf-8")
    code, out, terminal = _ingest_with_stderr_on_a_terminal(log)
    assert code == 0 and "Đã nhập 1 tệp" in out
    assert "Đang nhập" in terminal and "%|" in terminal and "\r" in terminal
    piped = subprocess.run([sys.executable, "-m", "canhgac.cli", "ingest", str(log), "--source", "nginx", "--agency",
                            "gialai"], capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""


def test_most_lines_failing_gives_a_hint_naming_the_likely_format(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "auth.log"
    log.write_text(SSHD, encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai"]) == 0
    err = capsys.readouterr().err
    assert f"Phần lớn các dòng của {log} không đọc được theo định dạng nginx. --source có đúng không?" in err
    assert "Các dòng này giống định dạng sshd" in err
    monkeypatch.setenv("CANHGAC_LANG", "en")
    access = tmp_path / "access.log"
    access.write_text("".join(access_line(n) for n in range(30)), encoding="utf-8")
    assert main(["ingest", str(access), "--source", "sshd", "--agency", "gialai"]) == 0
    err = capsys.readouterr().err
    assert "Is --source right? These lines look like nginx, apache" in err


def test_no_hint_when_only_a_few_lines_fail_or_nothing_known_reads_them(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(access_line(n) for n in range(30)) + "garbage\n" * 5, encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai"]) == 0
    assert "--source" not in capsys.readouterr().err
    log.write_text("garbage that no parser reads\n" * 20, encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai"]) == 0
    err = capsys.readouterr().err
    assert "không định dạng đã biết nào đọc được chúng" in err
