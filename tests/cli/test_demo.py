"""``canhgac demo`` end to end: simulated traffic through the real pipeline, its data in a folder of its own,
each headline feature within its first minute, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from canhgac.cli import main

ANALYST = {"X-API-Key": "demo-soc-analyst"}
ANOMALY_RULE = "canhgac-anomaly-traffic"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _headline(base: str) -> dict[str, str]:
    """Which headline features the demo shows so far: feature → an incident showing it."""
    response = httpx.get(f"{base}/api/v1/incidents", params={"limit": 500}, headers=ANALYST, timeout=10)
    if response.status_code != 200:
        return {}
    found: dict[str, str] = {}
    for incident in response.json():
        if incident["severity"] == "critical":
            found.setdefault("critical", incident["id"])
        if incident["serious"]:
            found.setdefault("serious", incident["id"])
        if incident["rule_id"] == ANOMALY_RULE:
            found.setdefault("anomaly", incident["id"])
        if "breach" not in found and incident["rule_id"] != ANOMALY_RULE:
            detail = httpx.get(f"{base}/api/v1/incidents/{incident['id']}", headers=ANALYST, timeout=10).json()
            breach = [c for c in detail["clocks"] if c["kind"] == "breach_notice"]
            if breach and "personal_data_leak" in detail["categories"]:
                detected = datetime.fromisoformat(detail["detected_at"].replace("Z", "+00:00"))
                due = datetime.fromisoformat(breach[0]["due"].replace("Z", "+00:00"))
                assert due - detected == timedelta(hours=72)
                found["breach"] = incident["id"]
    return found


def test_demo_shows_every_headline_feature_from_its_own_folder(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "CANHGAC_HOME": str(home), "CANHGAC_LANG": "vi"}
    env.pop("CANHGAC_CONFIG", None)
    env.pop("SLACK_BOT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "demo", "--host", "127.0.0.1", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    found: dict[str, str] = {}
    first_incident = None
    try:
        started = time.monotonic()
        while time.monotonic() - started < 120 and len(found) < 4:
            time.sleep(1)
            try:
                found = _headline(base)
                if first_incident is None and httpx.get(f"{base}/api/v1/incidents", headers=ANALYST,
                                                        timeout=5).json():
                    first_incident = time.monotonic() - started
            except httpx.TransportError:
                continue
        elapsed = time.monotonic() - started
        assert set(found) == {"critical", "serious", "breach", "anomaly"}, found
        assert first_incident is not None and first_incident < 30
        assert elapsed < 90
        anomaly = httpx.get(f"{base}/api/v1/incidents/{found['anomaly']}", headers=ANALYST, timeout=10).json()
        [alert, *_] = anomaly["alerts"]
        features = {f["feature"]: f for f in alert["details"]["features"]}
        assert features and all(f["value"] > f["baseline"] for f in features.values() if f["feature"] == "requests")
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and 'lang="vi"' in page.text
        ward = httpx.get(f"{base}/api/v1/incidents", headers={"X-API-Key": "demo-phuong-quynhon"}, timeout=5).json()
        assert ward and all(i["agency"] == "gialai-quynhon" for i in ward)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "demo-soc-analyst" in output and "Đã dừng." in output and "Traceback" not in output
    [folder] = re.findall(r"nằm riêng tại (\S+?),", output)
    assert Path(folder).resolve() != home.resolve() and Path(folder).resolve() != (Path.home() / ".canhgac").resolve()
    assert not (home / "canhgac.db").exists()
    assert not Path(folder).exists()  # a temporary folder, removed on stop


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path / "home"))
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "report.docx").write_text("x", encoding="utf-8")
    assert main(["demo", "--data-dir", str(precious), "--port", str(free_port())]) == 2
    assert "không phải thư mục chạy thử" in capsys.readouterr().err
    assert (precious / "report.docx").exists() and not (precious / "demo-logs").exists()
