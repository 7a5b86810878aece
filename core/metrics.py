"""Prometheus metrics of each role (docs/decisions/0049): one registry per role instance, so two apps or two
workers in one process (the tests) never add to each other's counts.

Counts the roles already keep (the pipeline's totals, the source status board) are read when scraped, by
callbacks; what nothing kept is counted here, once per batch, never per event.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Seconds; an API answer is tens of milliseconds, an export or a report some seconds.
#: Seconds a scrape waits for the partitions' lag from the bus, and how old a lag it shows when that was too long.
LAG_WAIT, LAG_KEPT = 2.0, 30.0
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def new_registry() -> CollectorRegistry:
    """A fresh registry with the process's own metrics (CPU, memory, open files, garbage collection)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    if GC_COLLECTOR is not None:
        GCCollector(registry=registry)
    return registry


#: The environment variable prometheus-client reads for its multiprocess mode.
SHARED_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(directory: Path) -> None:
    """Counters and histograms made from now on, in this process and in the processes it spawns, keep their
    values in files under ``directory`` (prometheus-client's multiprocess mode), which ``HttpMetrics(shared=…)``
    sums at each scrape: ``serve --workers N`` answers requests in N processes, a scrape reaches one of them."""
    os.environ[SHARED_DIR_VARIABLE] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # the library's own choice, made at import before the variable


def shared_directory() -> Path | None:
    found = os.environ.get(SHARED_DIR_VARIABLE)
    return Path(found) if found else None


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def serve_registry(registry: CollectorRegistry, host: str, port: int) -> Callable[[], None]:
    """Serve ``registry`` over HTTP on ``host:port`` in a thread; returns what stops it."""
    server, thread = start_http_server(port, addr=host, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)
    return stop


class _Totals(Protocol):
    events_stored: int
    dead_letters: int
    alerts: int
    incidents_created: int
    incidents_updated: int


class _Callback(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception as exc:  # a scrape must answer even when one source of figures fails
            log.warning("metrics not collected: %s", exc)

    def describe(self) -> list[Metric]:
        return []  # no describe-time call of the callback: it may touch the bus


def add_ingest_totals(registry: CollectorRegistry, totals: Callable[[], Iterable[tuple[str | None, _Totals]]]) -> None:
    """The pipeline's totals as counters; ``totals`` gives (partition or None, totals) pairs."""
    def collect() -> Iterator[Metric]:
        pairs = list(totals())
        labels = ["partition"] if any(p is not None for p, _ in pairs) else []
        stored = CounterMetricFamily("canhgac_events_stored", "Events written to the store", labels=labels)
        letters = CounterMetricFamily("canhgac_dead_letters", "Lines kept as dead letters (not parsed)",
                                      labels=labels)
        alerts = CounterMetricFamily("canhgac_alerts_raised", "New alerts stored", labels=labels)
        incidents = CounterMetricFamily("canhgac_incidents", "Incidents opened or updated by alerts",
                                        labels=[*labels, "change"])
        for partition, t in pairs:
            key = [partition] if labels else []
            stored.add_metric(key, t.events_stored)
            letters.add_metric(key, t.dead_letters)
            alerts.add_metric(key, t.alerts)
            incidents.add_metric([*key, "opened"], t.incidents_created)
            incidents.add_metric([*key, "updated"], t.incidents_updated)
        yield from (stored, letters, alerts, incidents)
    registry.register(_Callback(collect))


class CollectorMetrics:
    """``canhgac collect``: what the tails and listeners read, what reached the stream."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or new_registry()
        labels = ["kind", "partition"]
        self.batches = Counter("canhgac_published_batches", "Batches the stream acknowledged", labels,
                               registry=self.registry)
        self.lines = Counter("canhgac_published_lines", "Lines in acknowledged batches", labels,
                             registry=self.registry)
        self.bytes = Counter("canhgac_published_bytes", "Bytes of the lines in acknowledged batches", labels,
                             registry=self.registry)
        self.duplicates = Counter("canhgac_publish_duplicates", "Batches the stream already held (a retry after "
                                  "a lost acknowledgement)", ["kind"], registry=self.registry)
        self.errors = Counter("canhgac_publish_errors", "Publishes that failed; the batch is published again",
                              ["kind"], registry=self.registry)

    def published(self, kind: str, partition: int, lines: int, size: int, duplicate: bool) -> None:
        key = (kind, str(partition))
        self.batches.labels(*key).inc()
        self.lines.labels(*key).inc(lines)
        self.bytes.labels(*key).inc(size)
        if duplicate:
            self.duplicates.labels(kind).inc()

    def failed(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def watch_sources(self, snapshot: Callable[[], Iterable[Any]]) -> None:
        """Lines read, lost and still to read, per source kind, from the status board (``SourceStatus``es)."""
        def collect() -> Iterator[Metric]:
            read = CounterMetricFamily("canhgac_lines_read", "Lines read from files and listeners", labels=["kind"])
            dropped = CounterMetricFamily("canhgac_lines_dropped", "Datagrams or requests lost or refused",
                                          labels=["kind"])
            behind = GaugeMetricFamily("canhgac_source_lag_bytes", "Bytes of the files not read yet",
                                       labels=["kind"])
            by_kind: dict[str, list[int]] = {}
            for status in snapshot():
                row = by_kind.setdefault(status.kind, [0, 0, 0])
                row[0] += status.lines
                row[1] += status.dropped
                row[2] += status.lag_bytes
            for kind, (lines, lost, lag) in sorted(by_kind.items()):
                read.add_metric([kind], lines)
                dropped.add_metric([kind], lost)
                behind.add_metric([kind], lag)
            yield from (read, dropped, behind)
        self.registry.register(_Callback(collect))


class WorkerMetrics:
    """``canhgac worker``: batches consumed, errors by side, partitions changing hands; the rest by callback."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or new_registry()
        self.batches = Counter("canhgac_consumed_batches", "Batches read from the stream (again after a takeover)",
                               ["partition"], registry=self.registry)
        self.lines = Counter("canhgac_consumed_lines", "Lines in the batches read", ["partition"],
                             registry=self.registry)
        self.errors = Counter("canhgac_worker_errors", "Failures that sent a partition back to its last "
                              "acknowledged batch, or a lease round that failed", ["side"], registry=self.registry)
        self.changes = Counter("canhgac_partition_changes", "Partitions taken, given back, or lost (lease lapsed)",
                               ["change"], registry=self.registry)
        for side in ("bus", "store"):
            self.errors.labels(side)
        for change in ("taken", "given", "lost"):
            self.changes.labels(change)
        self._lock = threading.Lock()
        self._asking: threading.Thread | None = None
        self._lag: tuple[dict[int, int], float] = ({}, float("-inf"))

    def consumed(self, partition: int, batches: int, lines: int) -> None:
        self.batches.labels(str(partition)).inc(batches)
        self.lines.labels(str(partition)).inc(lines)

    def watch_partitions(self, owned: Callable[[], dict[int, int]],
                         lag: Callable[[int], int | None] | None = None) -> None:
        """``owned``: partition → batches processed but not acknowledged yet; ``lag``: batches the group has
        not acknowledged, asked of the bus when scraped (in a thread, waited for ``LAG_WAIT`` seconds: with the
        bus unreachable a scrape still answers, without the lag, or with one at most ``LAG_KEPT`` old)."""
        def collect() -> Iterator[Metric]:
            pending = owned()
            count = GaugeMetricFamily("canhgac_partitions_owned", "Partitions this worker reads")
            count.add_metric([], len(pending))
            unacked = GaugeMetricFamily("canhgac_unacked_batches", "Batches processed, not acknowledged yet",
                                        labels=["partition"])
            behind = GaugeMetricFamily("canhgac_partition_lag_batches", "Batches of the partition the group has "
                                       "not acknowledged (the stream's consumer info)", labels=["partition"])
            for partition, n in sorted(pending.items()):
                unacked.add_metric([str(partition)], n)
            if lag is not None:
                for partition, batches in sorted(self._lags(lag, sorted(pending)).items()):
                    behind.add_metric([str(partition)], batches)
            yield from (count, unacked, behind)
        self.registry.register(_Callback(collect))

    def _lags(self, lag: Callable[[int], int | None], partitions: list[int]) -> dict[int, int]:
        with self._lock:
            asking = self._asking
            if asking is None or not asking.is_alive():
                asking = self._asking = threading.Thread(target=self._ask, args=(lag, partitions), daemon=True,
                                                         name="metrics-lag")
                asking.start()
        asking.join(LAG_WAIT)
        found, at = self._lag
        if time.monotonic() - at > LAG_KEPT:
            return {}
        return {p: n for p, n in found.items() if p in partitions}

    def _ask(self, lag: Callable[[int], int | None], partitions: list[int]) -> None:
        found: dict[int, int] = {}
        try:
            for partition in partitions:
                batches = lag(partition)
                if batches is not None:
                    found[partition] = batches
        except Exception as exc:  # the bus is unreachable: the lag is unknown, not zero
            log.warning("partition lag unknown: %s", exc)
            return
        self._lag = (found, time.monotonic())


def route_label(scope: dict[str, Any]) -> str:
    """The matched route's template (``/api/v1/incidents/{incident_id}``), never the raw path: bounded labels.
    A route included with a prefix knows only its own part: the prefix is what comes before that part,
    filled in with the request's path parameters, in the request's path."""
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return "unmatched"
    params = scope.get("path_params") or {}
    filled = _PARAM.sub(lambda m: str(params.get(m[1], m[0])), path)
    raw = scope.get("path", "")
    return raw[:-len(filled)] + path if filled and raw.endswith(filled) else path


class HttpMetrics:
    """``canhgac serve``: requests by route template and status, and their duration."""

    def __init__(self, registry: CollectorRegistry | None = None, *, shared: Path | None = None) -> None:
        """``shared``: the directory of ``share_between_processes``; the counts of every process writing there
        are what this registry shows, instead of this process's own."""
        self.registry = registry or new_registry()
        own = None if shared is not None else self.registry
        self.requests = Counter("canhgac_http_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=own)
        self.duration = Histogram("canhgac_http_request_duration_seconds", "Time to answer an HTTP request",
                                  ["method", "route"], buckets=HTTP_BUCKETS, registry=own)
        if shared is not None:
            multiprocess.MultiProcessCollector(self.registry, path=str(shared))

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)
