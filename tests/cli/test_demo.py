"""``canhgac demo`` end to end: simulated traffic through the real pipeline, incidents over HTTP, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_shows_incidents_within_seconds_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CANHGAC_HOME": str(tmp_path / "home"), "CANHGAC_LANG": "vi"}
    env.pop("CANHGAC_CONFIG", None)
    env.pop("SLACK_BOT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "demo", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = time.monotonic()
        incidents: list[dict] = []  # type: ignore[type-arg]
        while time.monotonic() - started < 45 and not incidents:
            time.sleep(0.5)
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/incidents",
                                     headers={"X-API-Key": "demo-soc-analyst"}, timeout=5)
            except httpx.TransportError:
                continue
            if response.status_code == 200:
                incidents = response.json()
        elapsed = time.monotonic() - started
        assert incidents, "no incident appeared"
        assert elapsed < 30
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and 'lang="vi"' in page.text
        scoped = httpx.get(f"http://127.0.0.1:{port}/api/v1/incidents",
                           headers={"X-API-Key": "demo-quynhon"}, timeout=5).json()
        assert all(i["agency"] == "quynhon" for i in scoped)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "demo-soc-analyst" in output and "Đã dừng." in output and "Traceback" not in output
