"""The worker role: hold partition leases, read their batches, run parse → detect → group → store exactly as
the single process does, and acknowledge only what the store committed (docs/decisions/0047).

Each owned partition has its own pipeline: a detection engine whose correlation windows are saved under the
partition's own state keys, and the parser state of the sources it has seen. A worker that takes a partition
over restores both from the store and resumes from the group's last acknowledged batch, which was
acknowledged only after the state covering it was saved: the replayed batches rebuild the same windows and
raise the same alerts (same ids), which the store keeps once.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from canhgac.collectors.bus.base import BusConsumer, BusError, Received
from canhgac.collectors.bus.jetstream import JetStreamBus
from canhgac.collectors.bus.leases import PartitionLeases
from canhgac.core.config import Settings
from canhgac.core.metrics import WorkerMetrics, add_ingest_totals
from canhgac.incidents.service import IncidentService
from canhgac.roles.partition import FencedEngine, LeaseLapsed, PartitionState, SourceDecoders
from canhgac.runtime import Pipeline, PipelineTotals, Runtime

log = logging.getLogger(__name__)
#: Acknowledge only while our lease has at least this long to run: another worker reads a partition only
#: after the lease is gone.
FENCE_MARGIN = 1.0
_CHANGES = {"take": "taken", "give": "given", "lost": "lost"}


def default_worker_id() -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", f"{socket.gethostname()}-{os.getpid()}")[:64]


@dataclass
class PartitionRunner:
    partition: int
    consumer: BusConsumer
    pipeline: Pipeline
    decoders: SourceDecoders
    state: PartitionState
    pending: list[Received] = field(default_factory=list)
    batches: int = 0
    lines: int = 0
    metrics: WorkerMetrics | None = None

    def step(self, timeout: float) -> int:
        got = self.consumer.fetch(max_batches=16, timeout=timeout)
        for received in got:
            self.state.check()  # a long fetch can outlast the lease: stop before the next batch
            # One unit of work per published batch, as the single process has one per read batch: incident
            # grouping looks at a batch's alerts together, so the same batches give the same incidents.
            events, letters = self.decoders.decode(received)
            self.pipeline.replaying = received.redelivered
            self.pipeline.process(events, letters)
            self.pending.append(received)
            self.batches += 1
            self.lines += len(received.batch.lines)
        if got and self.metrics is not None:
            self.metrics.consumed(self.partition, len(got), sum(len(r.batch.lines) for r in got))
        return len(got)

    def settled(self, force: bool) -> bool:
        """True when the saved state covers every processed batch (with ``force``: save it now)."""
        if not self.pending:
            return False
        return self.pipeline.settle(force, self._save_parsers if force else None)

    def _save_parsers(self) -> None:
        states = self.decoders.snapshot()
        if states:
            self.state.check()
            self.state.put_state("parsers", states)

    def ack(self) -> None:
        if self.pending:
            self.consumer.ack(self.pending)
            self.pending = []

    def close(self) -> None:
        self.consumer.close()


class Worker:
    def __init__(self, settings: Settings, bus: JetStreamBus, *, worker_id: str | None = None,
                 runtime: Runtime | None = None,
                 say: Callable[[str, int], None] = lambda what, partition: None,
                 metrics: WorkerMetrics | None = None) -> None:
        cluster = settings.cluster
        assert cluster.bus is not None
        self.settings = settings
        self.bus = bus
        self.group = cluster.bus.group
        self.lease_settings = cluster.leases
        self.id = worker_id or cluster.worker_id or default_worker_id()
        self.runtime = runtime or Runtime.build(settings)
        self.store = self.runtime.store
        # Elasticsearch hands each process incident numbers in blocks of 100, skipping a stopped process's
        # rest: with partitions changing hands, an agency's numbers would jump at every takeover. One at a
        # time (one conditional write per new incident) keeps them consecutive, as in the single process.
        self.store.number_incidents_singly()
        self.leases = PartitionLeases(bus, self.id, cluster.leases.bucket, cluster.leases.ttl_seconds)
        self.runners: dict[int, PartitionRunner] = {}
        self.metrics = metrics or WorkerMetrics()
        self.totals: dict[int, PipelineTotals] = {}  # per partition, kept across its runners: counters only grow
        self._watch()

        def say_and_count(what: str, partition: int) -> None:
            self.metrics.changes.labels(_CHANGES[what]).inc()
            say(what, partition)
        self.say = say_and_count
        self._lock = threading.RLock()  # the lease thread renews while the main loop claims and releases
        self.started = time.monotonic()

    # leases ---------------------------------------------------------------------------------------
    def _renew_loop(self, stop: threading.Event) -> None:
        every = self.lease_settings.renew_seconds
        while not stop.wait(every):
            try:
                with self._lock:
                    self.leases.renew()
                    self.leases.heartbeat(self._about())
            except Exception as exc:  # the bus is unreachable: leases lapse, the main loop drops them
                self._failed(exc, "bus")
                log.warning("lease renewal failed: %s", exc)

    def _about(self) -> dict[str, object]:
        return {"batches": sum(r.batches for r in self.runners.values()),
                "lines": sum(r.lines for r in self.runners.values())}

    def rebalance(self) -> None:
        with self._lock:
            for partition in [p for p in self.runners if p not in self.leases.held]:
                self._drop(partition, reason="lost")
            self.leases.heartbeat(self._about())
            plan = self.leases.plan()
        for partition in plan.release:
            self._give_back(partition)
        for partition in plan.claim:
            with self._lock:
                if not self.leases.claim(partition):
                    continue
            self.say("take", partition)
        with self._lock:  # a lease whose renewal is failing is not opened: someone else may own it by now
            unopened = [p for p in self.leases.held if p not in self.runners
                        and self.leases.still_mine(p, FENCE_MARGIN)]
        for partition in unopened:
            try:  # newly claimed, or reopened after the store or the bus failed it
                self.runners[partition] = self._open(partition)
            except Exception as exc:  # kept leased: the next round tries again
                self._failed(exc)
                log.warning("partition %d not opened: %s", partition, exc)

    def _open(self, partition: int) -> PartitionRunner:
        settings = self.settings
        # The Elasticsearch store keeps a process-local view of incidents for grouping, reloaded every few
        # seconds: a partition taken over must be grouped against what its previous owner wrote, not against
        # what this process last saw of those agencies, or an incident is opened twice.
        self.store.reread_incidents()
        state = PartitionState(self.store, partition, fence=lambda: self.leases.still_mine(partition, FENCE_MARGIN))
        engine = FencedEngine(settings.detection, state, resolve=settings.resolve_path)
        pipeline = Pipeline(self.store, engine, IncidentService(self.store, self.runtime.directory),
                            self.runtime.notifier)
        pipeline.totals = self.totals.setdefault(partition, PipelineTotals())
        decoders = SourceDecoders(self.runtime.collection(), state.get_state("parsers"))
        return PartitionRunner(partition, self.bus.consumer(self.group, partition), pipeline, decoders, state,
                               metrics=self.metrics)

    def _give_back(self, partition: int) -> None:
        runner = self.runners.pop(partition, None)
        try:
            if runner is not None:
                self._settle(runner, force=True)
        finally:
            if runner is not None:
                runner.close()
            with self._lock:
                self.leases.release(partition)
        self.say("give", partition)

    def _drop(self, partition: int, reason: str) -> None:
        runner = self.runners.pop(partition, None)
        if runner is not None:
            runner.close()  # nothing acknowledged: the next owner reads these batches again
            log.warning("partition %d %s; its unacknowledged batches go to the next owner", partition, reason)
            self.say("lost", partition)

    def _settle(self, runner: PartitionRunner, force: bool) -> None:
        if not self.leases.still_mine(runner.partition, FENCE_MARGIN):
            self._drop(runner.partition, reason="lease about to lapse")
            return
        if runner.settled(force) and self.leases.still_mine(runner.partition, FENCE_MARGIN):
            runner.ack()

    # metrics --------------------------------------------------------------------------------------
    def _watch(self) -> None:
        lag = getattr(self.bus, "lag", None)
        self.metrics.watch_partitions(lambda: {p: len(r.pending) for p, r in list(self.runners.items())},
                                      (lambda partition: lag(self.group, partition)) if lag is not None else None)
        add_ingest_totals(self.metrics.registry, lambda: [(str(p), t) for p, t in sorted(self.totals.items())])

    def _failed(self, exc: Exception, side: str | None = None) -> None:
        if isinstance(exc, LeaseLapsed):  # counted as a partition lost
            return
        if side is None:  # nats-py's own errors and a bus call's timeout come through unwrapped
            bus = isinstance(exc, BusError | TimeoutError) or type(exc).__module__.startswith("nats")
            side = "bus" if bus else "store"
        self.metrics.errors.labels(side).inc()

    # the loop -------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        renewer = threading.Thread(target=self._renew_loop, args=(stop,), name="leases", daemon=True)
        renewer.start()
        next_round = 0.0
        last_settle: dict[int, float] = {}
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_round:
                    next_round = now + self.lease_settings.renew_seconds
                    try:
                        self.rebalance()
                    except Exception as exc:  # the bus is electing a leader, or unreachable: next round
                        self._failed(exc, "bus")
                        log.warning("partition rebalance failed: %s", exc)
                if not self.runners:
                    stop.wait(0.2)
                    continue
                for partition, runner in list(self.runners.items()):
                    due = time.monotonic() - last_settle.get(partition, 0.0) >= self.lease_settings.settle_seconds
                    try:
                        if not self.leases.still_mine(partition, FENCE_MARGIN):
                            self._drop(partition, reason="lease about to lapse")
                            continue
                        runner.step(timeout=0.1)
                        self._settle(runner, force=due)
                    except Exception as exc:  # store or bus down: start this partition again from its last ack
                        self._failed(exc)
                        log.warning("partition %d: %s; reading it again from its last acknowledged batch",
                                    partition, exc)
                        self._drop(partition, reason="failed")
                        stop.wait(1.0)
                        continue
                    if due:
                        last_settle[partition] = time.monotonic()
        finally:
            for partition in list(self.runners):
                try:
                    self._give_back(partition)
                except Exception as exc:  # the store or bus is gone: the next owner reads again
                    log.warning("partition %d not handed back cleanly: %s", partition, exc)
            with self._lock:
                self.leases.leave()
            renewer.join(5)
