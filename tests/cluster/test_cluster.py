"""The distributed roles end to end (issue 12): a real 3-node JetStream cluster (R3 stream) on 127.0.0.1,
``canhgac collect`` tailing the sample logs of five agencies, two ``canhgac worker`` processes over
osmem-server — and what they store must be what one ``canhgac ingest`` of the same lines stores, same ids,
also after a worker is killed with SIGKILL mid-stream or a NATS node is stopped."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from canhgac.core.config import load_settings
from canhgac.core.model import utcnow
from canhgac.core.timeutil import VIETNAM
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery, Store

from canhgac.cli import main
from tests.cluster.support import (
    PYTHON,
    NatsCluster,
    Role,
    assert_numbers_unique,
    assert_same_outcome,
    free_ports,
    outcome,
    running_cluster,
    wait_for,
    without_numbers,
    write_config,
    write_samples,
)

_streams = itertools.count()
LINES = 400


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    yield from running_cluster(tmp_path_factory)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_samples(tmp_path_factory.mktemp("logs"), LINES)


@pytest.fixture(scope="module")
def reference(samples: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The single process: ``canhgac ingest`` of each file, into SQLite."""
    root = tmp_path_factory.mktemp("single")
    config = write_config(root / "canhgac.yaml", samples, sqlite=root / "single.db")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CANHGAC_HOME", str(root))
        patch.delenv("SLACK_BOT_TOKEN", raising=False)
        for system, path in samples.items():
            fmt = "sshd" if path.name.endswith(".auth.log") else "nginx"
            # batches of the size the collector publishes (write_config): incident grouping is per batch
            assert main(["ingest", str(path), "--source", fmt, "--system", system, "--config", str(config),
                         "--batch-size", "200", "--json"]) == 0
        store = open_store(load_settings(config))
        try:
            found = outcome(store)
            found["events"] = store.count_events(EventQuery())
        finally:
            store.close()
    assert len(found["alerts"]) > 20 and len(found["incidents"]) > 5
    assert {agency for _, _, agency, _ in found["alerts"]} >= {"vpcp", "gialai", "binhdinh", "daklak"}
    return found


class Run:
    """One distributed run: its own stream, lease bucket and Elasticsearch (an osmem clone)."""

    def __init__(self, nats: NatsCluster, samples: dict[str, Path], es_url: str, root: Path) -> None:
        self.root = root
        self.stream = f"T{next(_streams)}_RAW"
        self.config = write_config(root / "canhgac.yaml", samples, es_url=es_url, servers=nats.servers,
                                   stream=self.stream, lease_seconds=4.0)
        self.settings = load_settings(self.config)
        self.store: Store = open_store(self.settings)
        self.roles: list[Role] = []

    def start(self, name: str, *args: str) -> Role:
        role = Role(name, self.config, self.root, *args)
        self.roles.append(role)
        return role

    def worker(self, name: str) -> Role:
        return self.start(name, "worker", "--id", name)

    def events(self) -> int:
        self.store.refresh()
        return self.store.count_events(EventQuery())

    def owners(self) -> dict[int, str]:
        from canhgac.collectors.bus.leases import PartitionLeases

        from canhgac.roles.bus import open_bus

        bus = open_bus(self.settings, wait_seconds=10)
        try:
            leases = self.settings.cluster.leases
            return PartitionLeases(bus, "test", leases.bucket, leases.ttl_seconds).owners()
        finally:
            bus.close()

    def explain(self) -> str:
        return "\n".join(f"--- {role.name}\n{role.output()[-3000:]}" for role in self.roles)

    def wait_until_stored(self, expected: dict[str, Any], timeout: float = 45.0, *, numbers: bool = True) -> None:
        """Until every event is in and the alerts and incidents are the expected ones (incident numbers too,
        unless ``numbers`` is off: after a fault)."""
        def seen() -> dict[str, Any]:
            found = outcome(self.store)
            return found if numbers else without_numbers(found)

        want = expected if numbers else without_numbers(expected)

        def done() -> bool:  # alerts are written before their batch's incidents: wait for both
            if self.events() < expected["events"]:
                return False
            found = seen()
            return found["alerts"] == want["alerts"] and found["incidents"] == want["incidents"]
        try:
            wait_for(done, timeout, lambda: f"events {self.events()} of {expected['events']}\n{self.explain()}")
        except AssertionError:
            assert_same_outcome(seen(), want)  # says what differs, if the events are all in
            raise

    def close(self) -> None:
        for role in self.roles:
            role.stop()
        self.store.close()


@pytest.fixture
def run(nats_cluster: NatsCluster, samples: dict[str, Path], osmem_clone, tmp_path: Path) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    running = Run(nats_cluster, samples, osmem_clone.url, tmp_path)
    yield running
    running.close()


def _first_halves(samples: dict[str, Path]) -> Callable[[], None]:
    """Cut every sample log to its first half (the tail reads that much); the returned call writes the rest."""
    full = {path: path.read_bytes().splitlines(keepends=True) for path in samples.values()}
    for path, lines in full.items():
        path.write_bytes(b"".join(lines[:len(lines) // 2]))

    def rest() -> None:
        for path, lines in full.items():
            with path.open("ab") as log:  # appended, as a server writes its log
                log.write(b"".join(lines[len(lines) // 2:]))
    return rest


def _both_own_partitions(run: Run, *names: str) -> None:
    wait_for(lambda: set(run.owners().values()) == set(names), 30,
             lambda: f"owners {run.owners()}\n{run.explain()}")


def test_two_workers_store_what_one_process_stores(run: Run, samples: dict[str, Path],
                                                   reference: dict[str, Any]) -> None:
    first, second = run.worker("w1"), run.worker("w2")
    _both_own_partitions(run, "w1", "w2")
    owners = run.owners()
    assert sorted(owners) == [0, 1, 2, 3] and list(owners.values()).count("w1") == 2  # rebalanced: two each
    collector = run.start("collect", "collect")
    run.wait_until_stored(reference)
    assert_same_outcome(outcome(run.store), reference)
    assert run.events() == reference["events"]

    def status() -> dict[str, Any]:
        shown = subprocess.run([PYTHON, "-m", "canhgac.cli", "cluster", "status", "--json", "--config",
                                str(run.config)], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "CANHGAC_LANG": "en"})
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    wait_for(lambda: all(row["lag_batches"] == 0 for row in status()["partitions"]), 20, run.explain)
    shown = status()
    assert {w["id"] for w in shown["workers"]} == {"w1", "w2"}
    assert len(shown["stream"]["replicas"]) == 3 and sum(r["leader"] for r in shown["stream"]["replicas"]) == 1
    assert shown["stream"]["batches"] >= len(samples) * LINES // 200
    assert collector.stop() == 0
    assert f"{LINES * 5} lines published" in collector.output()
    assert first.stop() == 0 and second.stop() == 0


def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(run: Run, samples: dict[str, Path],
                                                              reference: dict[str, Any]) -> None:
    run.worker("w1"), run.worker("w2")
    _both_own_partitions(run, "w1", "w2")
    victim = run.roles[0]
    mine = {p for p, owner in run.owners().items() if owner == "w1"}
    rest = _first_halves(samples)
    run.start("collect", "collect")
    wait_for(lambda: run.events() > 0, 30, run.explain)
    victim.kill()  # SIGKILL: no state saved, no lease released, batches unacknowledged
    rest()
    run.wait_until_stored(reference, timeout=60, numbers=False)
    assert_same_outcome(without_numbers(outcome(run.store)), without_numbers(reference))
    assert_numbers_unique(outcome(run.store))
    assert run.events() == reference["events"]
    wait_for(lambda: set(run.owners().values()) == {"w2"}, 15, run.explain)
    taken = run.roles[1].output()
    assert all(f"took partition {p}" in taken for p in mine)


def test_one_nats_node_stopped_mid_stream_loses_and_doubles_nothing(run: Run, nats_cluster: NatsCluster,
                                                                    samples: dict[str, Path],
                                                                    reference: dict[str, Any]) -> None:
    run.worker("w1"), run.worker("w2")
    _both_own_partitions(run, "w1", "w2")
    rest = _first_halves(samples)
    run.start("collect", "collect")
    wait_for(lambda: run.events() > 0, 30, run.explain)
    from canhgac.roles.bus import open_bus

    bus = open_bus(run.settings)
    leader = bus.health()["replicas"][0]["name"]
    bus.close()
    node = int(leader[1])
    nats_cluster.stop(node)  # the node leading the stream: a new leader must be elected while batches flow
    rest()
    try:
        run.wait_until_stored(reference, timeout=60, numbers=False)
        assert_same_outcome(without_numbers(outcome(run.store)), without_numbers(reference))
        assert_numbers_unique(outcome(run.store))
        assert run.events() == reference["events"]
    finally:
        nats_cluster.start(node)


def test_syslog_over_udp_and_tcp_goes_over_the_bus(run: Run) -> None:
    udp, tcp = free_ports(2)
    data = yaml.safe_load(run.config.read_text(encoding="utf-8"))
    data["collection"]["syslog"] = [{"name": "edge", "host": "127.0.0.1", "udp_port": udp, "tcp_port": tcp}]
    for system in data["systems"]:  # no files this time: syslog only, to one agency
        system["log_sources"] = [{"type": "syslog", "senders": ["127.0.0.1"]}] if system["id"] == "dvc-daklak" else []
    run.config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run.worker("w1")
    _both_own_partitions(run, "w1")
    collector = run.start("collect", "collect")
    wait_for(lambda: "Collecting" in collector.output(), 30, run.explain)
    stamp = (utcnow() - timedelta(minutes=5)).astimezone(VIETNAM)
    header = f"<38>{stamp:%b} {stamp.day:2d} {stamp:%H:%M:%S} dvc-web01"
    lines = [f"{header} sshd[{900 + n}]: Failed password for root from 198.51.100.77 port {4000 + n} ssh2"
             for n in range(12)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for line in lines[:6]:
            sender.sendto(line.encode(), ("127.0.0.1", udp))
    with socket.create_connection(("127.0.0.1", tcp)) as sender:
        sender.sendall("".join(f"{line}\n" for line in lines[6:]).encode())
    wait_for(lambda: run.events() == 12, 30, run.explain)
    stored = run.store.search_events(EventQuery(limit=50))
    assert {e["organization.id"] for e in stored} == {"daklak"} and {e["service.id"] for e in stored} == {"dvc-daklak"}
    assert {e["log.file.path"] for e in stored} == {"syslog://127.0.0.1"}
    wait_for(lambda: any(a[2] == "daklak" for a in outcome(run.store)["alerts"]), 20, run.explain)  # brute force
