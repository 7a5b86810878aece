"""Posture and ranking by store aggregation (docs/decisions/0046) against reading every incident (the former
way, kept as ``tests/incidents/posture_oracle.py``), in the same run.

SQLite: ``--incidents`` (100,000) of 50 provinces, as ``bench/api.py`` stores them; the posture of all agencies
(with its weeks, as the route answers) and the province ranking, best of ``--repeat``; the floor is one GROUP
BY count of the incidents per agency.
Elasticsearch (osmem-server through the counting proxy on 127.0.0.1): requests per ranking and per posture,
old and new, for two store sizes (the new counts do not grow with the incidents).

    python bench/posture.py [--incidents 100000] [--es-incidents 500,5000] [--repeat 3] [--db FILE]

Ends with ``RESULT sqlite_incidents=… floor_ms=… posture_old_ms=… posture_new_ms=… ranking_old_ms=…
ranking_new_ms=… posture_ratio=… ranking_ratio=… (new ÷ floor) speedup_ranking=… es_ranking_requests=…
es_posture_requests=… es_ranking_requests_old=…``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.core.config import AgencyLevel
from canhgac.core.directory import Directory
from canhgac.incidents.posture import load, posture, ranking, weeks
from canhgac.storage.base import IncidentQuery, Store
from canhgac.storage.sqlite import SqliteStore

from bench.api import T0, make_settings, populate
from tests.incidents import posture_oracle

NOW = T0 + timedelta(days=31)
SINCE = NOW - timedelta(days=30)


def best_ms(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), result


def old_posture(store: Store, directory: Directory) -> Any:
    """As the route answered before 0046: the incidents read once, then the posture and its weeks."""
    items = load(store, directory, None, SINCE, NOW)
    result = posture_oracle.posture(items, agency=None, since=SINCE, now=NOW)
    result.weeks = posture_oracle.weeks(items, SINCE, NOW)
    return result


def old_ranking(store: Store, directory: Directory) -> Any:
    return posture_oracle.ranking(load(store, directory, None, SINCE, NOW), directory, AgencyLevel.province,
                                  since=SINCE, now=NOW)


def new_posture(store: Store, directory: Directory) -> Any:
    result = posture(store, directory, None, agency=None, since=SINCE, now=NOW)
    result.weeks = weeks(store, None, SINCE, NOW)
    return result


def new_ranking(store: Store, directory: Directory) -> Any:
    return ranking(store, directory, AgencyLevel.province, since=SINCE, now=NOW)


def sqlite_figures(count: int, repeat: int, db: str | None) -> dict[str, float]:
    settings = make_settings(50)
    directory = Directory(settings)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db) if db else Path(tmp) / "posture.db"
        fresh = not path.exists()
        store = SqliteStore(path)
        if fresh:
            start = time.perf_counter()
            populate(store, settings, count)
            print(f"stored {count} incidents in {time.perf_counter() - start:.1f} s", flush=True)
        floor, _ = best_ms(repeat, lambda: store.count_incidents_by(IncidentQuery(), "agency", 1000))
        figures = {"floor_ms": floor}
        for name, call in (("posture_old_ms", old_posture), ("posture_new_ms", new_posture),
                           ("ranking_old_ms", old_ranking), ("ranking_new_ms", new_ranking)):
            figures[name], result = best_ms(repeat, lambda call=call: call(store, directory))
            figures[name.replace("_ms", "_result")] = result
            print(f"{name}: {figures[name]:.1f} ms", flush=True)
        assert figures.pop("ranking_old_result") == figures.pop("ranking_new_result"), "rankings differ"
        old, new = figures.pop("posture_old_result"), figures.pop("posture_new_result")
        assert (old.score, old.open_total, len(old.overdue), old.weeks) == (
            new.score, new.open_total, new.overdue_total, new.weeks), "postures differ"
        store.close()
    return figures


def es_figures(sizes: list[int]) -> dict[str, list[int]]:
    from canhgac.storage.elasticsearch import ElasticsearchStore
    from elasticsearch import Elasticsearch
    from osmem_server import OsmemServer

    from tests.storage.es_proxy import EsProxy

    settings = make_settings(50)
    directory = Directory(settings)
    out: dict[str, list[int]] = {"ranking": [], "posture": [], "ranking_old": [], "posture_old": []}
    for size in sizes:
        with OsmemServer.start() as server, server.clone() as clone:
            proxy = EsProxy(clone.url).start()
            store = ElasticsearchStore(Elasticsearch(proxy.url, server_mode="serverless"))
            with store.unit_of_work():
                populate(store, settings, size)  # type: ignore[arg-type]
            store.refresh()
            for name, call in (("ranking", new_ranking), ("posture", new_posture), ("ranking_old", old_ranking),
                               ("posture_old", old_posture)):
                proxy.reset()
                call(store, directory)
                out[name].append(len(proxy.seen))
            store.close()
            proxy.close()
        print(f"elasticsearch, {size} incidents: " + ", ".join(f"{k} {v[-1]} requests" for k, v in out.items()),
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
    print(f"RESULT sqlite_incidents={args.incidents} floor_ms={sq['floor_ms']:.1f} "
          f"posture_old_ms={sq['posture_old_ms']:.0f} posture_new_ms={sq['posture_new_ms']:.0f} "
          f"ranking_old_ms={sq['ranking_old_ms']:.0f} ranking_new_ms={sq['ranking_new_ms']:.0f} "
          f"posture_ratio={sq['posture_new_ms'] / sq['floor_ms']:.1f} "
          f"ranking_ratio={sq['ranking_new_ms'] / sq['floor_ms']:.1f} "
          f"speedup_ranking={sq['ranking_old_ms'] / sq['ranking_new_ms']:.1f} "
          f"speedup_posture={sq['posture_old_ms'] / sq['posture_new_ms']:.1f} "
          f"es_incidents={args.es_incidents} es_ranking_requests={'/'.join(map(str, es['ranking']))} "
          f"es_posture_requests={'/'.join(map(str, es['posture']))} "
          f"es_ranking_requests_old={'/'.join(map(str, es['ranking_old']))} "
          f"es_posture_requests_old={'/'.join(map(str, es['posture_old']))}")


if __name__ == "__main__":
    main()
