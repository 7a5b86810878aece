"""The weekly monitoring report by store aggregation (``Store.period_incidents``, decision 0046) against the
former way (every incident active since the week's start read, and those detected or closed in it listed:
``tests/incidents/monitoring_oracle.former_report``), in the same run.

SQLite: ``--incidents`` (100,000) of 50 provinces over 30 days, as ``bench/api.py`` stores them; the weekly report
of all agencies for a week in the middle, best of ``--repeat``; the floor is one count of the incidents last seen
in that week (``count_incidents``, an index count).
Elasticsearch (osmem-server through the counting proxy on 127.0.0.1): requests per weekly report, old and new,
for two store sizes (the new count does not grow with the incidents).

    python bench/monitoring.py [--incidents 100000] [--es-incidents 500,5000] [--repeat 3] [--db FILE]

Ends with ``RESULT sqlite_incidents=… week_incidents=… floor_ms=… monitoring_old_ms=… monitoring_ms=…
monitoring_ratio=… (new ÷ floor) speedup=… missed_before=… es_incidents=… es_requests=… es_requests_old=…``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.core.directory import Directory
from canhgac.incidents.monitoring import monitoring_report, period_bounds
from canhgac.storage.base import IncidentQuery, Store
from canhgac.storage.sqlite import SqliteStore

from bench.api import T0, make_settings, populate
from bench.posture import best_ms
from tests.incidents import monitoring_oracle

DAY = (T0 + timedelta(days=12)).date()  # a Friday: its week lies inside the 30 stored days


def new_report(store: Store, directory: Directory) -> tuple[int, int]:
    report = monitoring_report(store, directory, None, None, "weekly", DAY)
    return report.opened.total, report.closed.total


def old_report(store: Store, directory: Directory) -> tuple[int, int]:
    _, opened, closed = monitoring_oracle.former_report(store, directory, None, "weekly", DAY)
    return len(opened), len(closed)


def sqlite_figures(count: int, repeat: int, db: str | None) -> dict[str, float]:
    settings = make_settings(50)
    directory = Directory(settings)
    start, end = period_bounds("weekly", DAY)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db) if db else Path(tmp) / "monitoring.db"
        fresh = not path.exists()
        store = SqliteStore(path)
        if fresh:
            began = time.perf_counter()
            populate(store, settings, count)
            print(f"stored {count} incidents in {time.perf_counter() - began:.1f} s", flush=True)
        floor, week = best_ms(repeat, lambda: store.count_incidents(IncidentQuery(start=start, end=end)))
        figures: dict[str, float] = {"floor_ms": floor, "week_incidents": week}
        figures["monitoring_old_ms"], old = best_ms(repeat, lambda: old_report(store, directory))
        figures["monitoring_ms"], new = best_ms(repeat, lambda: new_report(store, directory))
        # the former read (last_seen >= start) missed incidents closed in the week after their last alert
        assert old[0] == new[0] and old[1] <= new[1], f"the reports differ: {old} before, {new} now"
        figures["missed_before"] = new[1] - old[1]
        print(f"week: {week} incidents last seen, {new[0]} detected, {new[1]} closed ({new[1] - old[1]} of them "
              "closed after their last alert, which the former read missed); "
              f"old {figures['monitoring_old_ms']:.0f} ms, new {figures['monitoring_ms']:.1f} ms", flush=True)
        store.close()
    return figures


def es_figures(sizes: list[int]) -> dict[str, list[int]]:
    from canhgac.storage.elasticsearch import ElasticsearchStore
    from elasticsearch import Elasticsearch
    from osmem_server import OsmemServer

    from tests.storage.es_proxy import EsProxy

    settings = make_settings(50)
    directory = Directory(settings)
    out: dict[str, list[int]] = {"new": [], "old": []}
    for size in sizes:
        with OsmemServer.start() as server, server.clone() as clone:
            proxy = EsProxy(clone.url).start()
            store = ElasticsearchStore(Elasticsearch(proxy.url, server_mode="serverless"))
            with store.unit_of_work():
                populate(store, settings, size)  # type: ignore[arg-type]
            store.refresh()
            results = {}
            for name, call in (("new", new_report), ("old", old_report)):
                proxy.reset()
                results[name] = call(store, directory)
                out[name].append(len(proxy.seen))
            assert results["new"][0] == results["old"][0] and results["new"][1] >= results["old"][1], results
            store.close()
            proxy.close()
        print(f"elasticsearch, {size} incidents: {out['new'][-1]} requests now, {out['old'][-1]} before",
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--es-incidents", default="500,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db")
    args = parser.parse_args()
    sq = sqlite_figures(args.incidents, args.repeat, args.db)
    es = es_figures([int(n) for n in args.es_incidents.split(",") if n])
    print(f"RESULT sqlite_incidents={args.incidents} week_incidents={sq['week_incidents']:.0f} "
          f"floor_ms={sq['floor_ms']:.1f} monitoring_old_ms={sq['monitoring_old_ms']:.0f} "
          f"monitoring_ms={sq['monitoring_ms']:.1f} monitoring_ratio={sq['monitoring_ms'] / sq['floor_ms']:.1f} "
          f"speedup={sq['monitoring_old_ms'] / sq['monitoring_ms']:.0f} missed_before={sq['missed_before']:.0f} "
          f"es_incidents={args.es_incidents} "
          f"es_requests={'/'.join(map(str, es['new']))} es_requests_old={'/'.join(map(str, es['old']))}")


if __name__ == "__main__":
    main()
