"""The roles' configuration and their refusals, and ``serve --api-only`` (no NATS needed here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery

from canhgac.cli import main
from tests.cluster.support import free_ports


def _config(tmp_path: Path, **top: object) -> Path:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data.update(top)
    path = tmp_path / "canhgac.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_lease_renewed_too_rarely_is_refused_with_its_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, cluster={"bus": {"servers": ["nats://127.0.0.1:4222"]},
                                        "leases": {"ttl_seconds": 10, "renew_seconds": 6}})
    assert main(["config", "check", str(config)]) == 1
    err = capsys.readouterr().err
    assert "[cluster.leases]" in err and "renew_seconds (6.0) must be at most half of ttl_seconds" in err
    config = _config(tmp_path, cluster={"bus": {"servers": ["127.0.0.1:4222"], "partitions": 0}})
    assert main(["config", "check", str(config)]) == 1
    err = capsys.readouterr().err
    assert "[cluster.bus.servers[0]]" in err and "[cluster.bus.partitions]" in err


def test_the_defaults_are_those_of_decision_0047(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, cluster={"bus": {"servers": ["nats://10.0.0.1:4222"]}}))
    bus, leases = settings.cluster.bus, settings.cluster.leases
    assert bus is not None and (bus.stream, bus.partitions, bus.replicas, bus.group) == ("CANHGAC_RAW", 16, 3,
                                                                                          "workers")
    assert (leases.ttl_seconds, leases.renew_seconds) == (10.0, 3.0)
    assert load_settings(EXAMPLE_CONFIG).cluster.bus is None  # one process unless configured


@pytest.mark.parametrize("role", ["worker", "collect"])
def test_a_role_without_a_bus_says_so(role: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path / "home"))
    assert main([role, "--config", str(_config(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert "Lỗi" in err and "cluster.bus" in err and "Traceback" not in err


def test_serve_api_only_answers_and_collects_nothing(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('203.0.113.7 - - [22/Nov/2026:15:04:05 +0700] "GET /?id=1%27%20OR%201=1 HTTP/1.1" 200 5 "-" '
                   '"sqlmap/1.8"\n' * 20, encoding="utf-8")
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for system in data["systems"]:
        system.pop("log_sources", None)
    data["systems"][0]["log_sources"] = [{"type": "file", "format": "nginx", "paths": [str(log)]}]
    data["store"] = {"kind": "sqlite", "sqlite": {"path": str(tmp_path / "store.db")}}
    config = tmp_path / "canhgac.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    port = free_ports(1)[0]
    env = {**os.environ, "CANHGAC_HOME": str(tmp_path / "home"), "CANHGAC_LANG": "en"}
    env.pop("SLACK_BOT_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "serve", "--demo", "--api-only", "--config",
                               str(config), "--port", str(port), "--duration", "6"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        answered = None
        while answered is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    answered = page.status
            except OSError:
                time.sleep(0.2)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert answered == 200, err
    assert server.returncode == 0, err
    assert "API and pages only: no collection, no scheduled detection" in out
    store = open_store(load_settings(config))
    try:
        assert store.count_events(EventQuery()) == 0  # the file was there to read, and nobody read it
    finally:
        store.close()
