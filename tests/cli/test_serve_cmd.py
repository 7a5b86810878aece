"""``canhgac serve`` says what it loaded, and a port in use is a clear message, not a traceback."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from tests.cli.test_demo import free_port
from tests.conftest import EXAMPLE_CONFIG


def _own_config(tmp_path: Path, log: Path) -> Path:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["api_keys"] = [{"name": "mine", "role": "soc_admin", "sha256": hashlib.sha256(b"not-public").hexdigest()}]
    for system in config["systems"]:
        system.pop("log_sources", None)
    config["systems"][0]["log_sources"] = [{"type": "file", "format": "nginx", "paths": [str(log)]}]
    config["detection"]["anomaly"] = {"enabled": False}
    path = tmp_path / "canhgac.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _serve(tmp_path: Path, *argv: str, lang: str = "vi") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CANHGAC_HOME": str(tmp_path / "home"), "CANHGAC_LANG": lang}
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("CANHGAC_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "canhgac.cli", "serve", *argv], env=env, capture_output=True,
                          text=True, timeout=90)


def test_serve_prints_rules_tails_and_slack(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("", encoding="utf-8")
    config = _own_config(tmp_path, log)
    done = _serve(tmp_path, "--config", str(config), "--port", str(free_port()), "--duration", "0.5")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Luật phát hiện: [1-9]\d* đã nạp, 0 lỗi$", done.stdout, re.MULTILINE)
    assert "Đang theo dõi 1 tệp nhật ký:" in done.stdout and f"    {log.resolve()}" in done.stdout
    assert "Slack: tắt (biến môi trường SLACK_BOT_TOKEN chưa đặt)" in done.stdout
    assert "Traceback" not in done.stderr
    english = _serve(tmp_path, "--config", str(config), "--port", str(free_port()), "--duration", "0.5", lang="en")
    assert "Tailing 1 log file(s):" in english.stdout and "Slack: off" in english.stdout


def test_a_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve(tmp_path, "--demo", "--port", str(port))
        english = _serve(tmp_path, "--demo", "--port", str(port), lang="en")
    assert done.returncode == 2
    assert f"Lỗi: Cổng {port} trên 127.0.0.1 đang được một chương trình khác dùng" in done.stderr
    assert f"--port {port + 1}" in done.stderr and "Traceback" not in done.stderr
    assert english.returncode == 2 and f"Port {port} on 127.0.0.1 is in use" in english.stderr
