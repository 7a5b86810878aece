"""The command as people first meet it: alone it prints help, help and argparse's own words follow the
language, and output piped into ``head`` ends without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from canhgac.cli import main
from tests.collectors.support import access_line


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canhgac.cli", *argv], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_canhgac_alone_prints_vietnamese_help(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANHGAC_LANG", raising=False)
    done = cli()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cách dùng: canhgac") and "tùy chọn:" in done.stdout
    assert "hiện trợ giúp này rồi thoát" in done.stdout and "liệt kê sự cố" in done.stdout
    assert "usage:" not in done.stdout and "error" not in done.stderr


def test_english_with_canhgac_lang(home: Path) -> None:
    done = cli(env={"CANHGAC_LANG": "en"})
    assert done.returncode == 0
    assert done.stdout.startswith("usage: canhgac") and "options:" in done.stdout
    assert "list incidents" in done.stdout and "cách dùng" not in done.stdout


def test_a_group_alone_prints_its_help_and_argparse_errors_are_translated(
        home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANHGAC_LANG", raising=False)
    assert main(["rules"]) == 0
    assert "list" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["incidents", "--since", "yesterday"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "canhgac incidents: lỗi: đối số --since: không phải thời điểm: 'yesterday'" in err
    with pytest.raises(SystemExit):
        main(["ingest"])
    assert "thiếu các đối số bắt buộc: TỆP, --source" in capsys.readouterr().err
    monkeypatch.setenv("CANHGAC_LANG", "en")
    with pytest.raises(SystemExit):
        main(["ingest"])
    assert "the following arguments are required: PATH, --source" in capsys.readouterr().err


def _piped(command: str) -> tuple[str, str, str]:
    """Run ``canhgac …`` into ``head -1`` through a real pipe: (head's output, canhgac's stderr, its status)."""
    shell = f'{sys.executable} -m canhgac.cli {command} | head -1; echo "status=${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    *errors, status = done.stderr.rstrip("\n").split("\n")
    return done.stdout, "\n".join(errors), status


def test_output_piped_into_head_ends_without_a_traceback(home: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(access_line(n) for n in range(3000)), encoding="utf-8")
    assert main(["ingest", str(log), "--source", "nginx", "--agency", "gialai", "--json"]) == 0
    capsys.readouterr()
    out, err, status = _piped("events --format jsonl")  # far more than a pipe holds
    assert len(out.splitlines()) == 1 and out.startswith("{")
    assert err == "" and status == "status=141"  # what a program killed by SIGPIPE reports
    out, err, _ = _piped("--help")
    assert out.startswith("cách dùng: canhgac") and "Traceback" not in err and "BrokenPipe" not in err
