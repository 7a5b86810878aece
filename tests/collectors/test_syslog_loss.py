"""Issue 14, item 6: loss is visible where it happens, per syslog source, in ``canhgac sources`` and the API:
the kernel's UDP receive-buffer drops, and events correlation left out as later than the allowed lateness
(a relay's workers delivering batches out of order)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from canhgac.api import create_app
from canhgac.collectors.syslog import SyslogServer
from canhgac.core.config import Settings, load_settings
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery
from fastapi.testclient import TestClient

from canhgac.cli import main
from canhgac.runtime import Runtime
from tests.collectors import syslog_support as sy
from tests.conftest import EXAMPLE_CONFIG

ANALYST = {"X-API-Key": "demo-soc-analyst"}


@pytest.fixture
def config_file(home: Path, tmp_path: Path) -> Path:
    path = tmp_path / "canhgac.yaml"
    path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8") + (
        "\ncollection:\n  syslog:\n    - {name: test, host: 127.0.0.1, udp_port: 0, tcp_port: 0, "
        "default_agency: binhdinh, udp_receive_buffer: 65536}\n"), encoding="utf-8")
    return path


@contextmanager
def serving(settings: Settings, *, read: bool = True) -> Iterator[tuple[Runtime, SyslogServer, threading.Thread]]:
    """The pipeline ``canhgac serve`` runs (store, detection, source status) behind one syslog listener, reading
    at once or (``read=False``) once the test starts the thread it is given."""
    runtime = Runtime.build(settings, store=open_store(settings))
    collection = runtime.collection()
    server = SyslogServer(settings.collection.syslog[0], collection)
    server.bind()
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    if read:
        thread.start()
    try:
        yield runtime, server, thread
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(5)
        collection.save_status()
        runtime.close()


def _listed(capsys: pytest.CaptureFixture[str], config_file: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["sources", "--config", str(config_file), "--format", "jsonl"]) == 0
    return {row["id"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}


def _api(settings: Settings) -> dict[str, dict]:  # type: ignore[type-arg]
    store = open_store(settings)
    try:
        with TestClient(create_app(settings, store)) as client:
            response = client.get("/api/v1/sources", headers=ANALYST)
    finally:
        store.close()
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()}


def test_events_too_late_for_correlation_are_counted_on_the_syslog_source(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(config_file)
    now = datetime.now(UTC)
    # A relay's second worker delivers the older batch after the newer one: 30 minutes is beyond the lateness.
    failures = [f"<38>{sy.bsd(now - timedelta(minutes=minutes))} dvc-web01 sshd[{900 + n}]: Failed password for root "
                f"from 203.0.113.45 port {40000 + n} ssh2" for n, minutes in enumerate([0, 30, 30, 30])]
    with serving(settings) as (runtime, server, _), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for n, failure in enumerate(failures):
            udp.sendto(failure.encode(), ("127.0.0.1", server.udp_port))
            if n == 0:
                sy.wait(lambda: runtime.store.count_events(EventQuery()) >= 1)
        sy.wait(lambda: runtime.collection().board.sources["syslog-udp:test"].late >= 3)
    listed = _listed(capsys, config_file)["syslog-udp:test"]
    assert listed["late"] == 3 and listed["events"] == 4
    assert _api(settings)["syslog-udp:test"]["late"] == 3
    capsys.readouterr()
    assert main(["sources", "--config", str(config_file)]) == 0
    assert "đến muộn" in capsys.readouterr().out


def test_kernel_udp_drops_are_shown_per_source(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(config_file)
    sent = 3000
    with serving(settings, read=False) as (runtime, server, reader), \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for n in range(sent):  # bound but not read yet: the kernel drops what the 64 KiB buffer cannot hold
            udp.sendto(f"<38>{sy.bsd(datetime.now(UTC))} web01 app: datagram {n}".encode(),
                       ("127.0.0.1", server.udp_port))
        reader.start()
        status = runtime.collection().board.sources["syslog-udp:test"]
        sy.wait(lambda: status.events + status.dropped >= sent)
    listed = _listed(capsys, config_file)["syslog-udp:test"]
    assert listed["dropped"] > 0 and listed["events"] + listed["dropped"] == sent
    assert "overflowed" in listed["last_error"]
    shown = _api(settings)["syslog-udp:test"]
    assert shown["dropped"] == listed["dropped"]
