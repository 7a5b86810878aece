"""The request pattern of the Elasticsearch write path: ``canhgac ingest``'s pipeline over portal traffic with
attacks, into osmem-server through a counting proxy on 127.0.0.1. Measures requests, not the test server's
speed: how many requests per 10k events, how many force a refresh (``refresh=true``/``wait_for`` or
``_refresh``), and how large the bulks are.

Two files of ``--lines`` each go through the same node: the first one warms up (store setup, correlation
state, the first incidents), the second is the steady state the goal is about. The floor beside the figures
is the least a batch could cost: one bulk per batch.

    python bench/es_requests.py [--lines 10000] [--batch-size 5000]

Ends with ``RESULT requests_per_10k=… forced_refreshes=… bulk_requests=… bulk_docs_max=… bulk_bytes_max=…
first_requests_per_10k=… first_forced_refreshes=… end_of_run_refreshes=… incidents=… alerts=…``
(``requests_per_10k`` counts every request of the steady-state run, the closing refresh included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.core.config import ElasticsearchSettings, StoreSettings, load_settings
from canhgac.core.model import utcnow
from osmem_server import OsmemServer

from canhgac.simulator import Portal, TrafficSimulator
from tests.storage.es_proxy import EsProxy, Seen


def make_logs(folder: Path, lines: int) -> tuple[Path, Path]:
    """Two consecutive stretches of portal traffic, an attack burst about every 150 lines."""
    simulator = TrafficSimulator([Portal("dvc-binhdinh", folder / "access.log")], folder / "auth.log", seed=5)
    start = utcnow() - timedelta(hours=3)
    paths = folder / "first.log", folder / "second.log"
    written = 0
    for path in paths:
        out: list[str] = []
        while len(out) < lines:
            at = start + timedelta(milliseconds=written * 250)
            written += 1
            if written % 150 == 0:
                _, burst = simulator.attack_lines(at)
                out += [line for line in burst if line.count('"') >= 6]
            out.append(simulator.citizen_line(at))
        path.write_text("".join(out[:lines]), encoding="utf-8")
    return paths


def describe(seen: list[Seen]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for request in seen:
        parts = request.path.strip("/").split("/")
        index = parts[0].removeprefix("canhgac-") if not parts[0].startswith("_") else ""
        action = next((p for p in parts if p.startswith("_")), "")
        kinds[f"{request.method} {index}/{action}".replace(" /", " ")] += 1
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, OsmemServer.start() as server, server.clone() as clone:
        proxy = EsProxy(clone.url).start()
        os.environ["CANHGAC_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("CANHGAC_CONFIG", None)
        from canhgac.runtime import Runtime, ingest_files

        es = ElasticsearchSettings(url=proxy.url, server_mode="serverless")
        settings = load_settings().model_copy(update={"store": StoreSettings(kind="elasticsearch", elasticsearch=es)})
        first, second = make_logs(Path(tmp), args.lines)
        runtime = Runtime.build(settings)
        setup = len(proxy.seen)
        figures = []
        for path in (first, second):
            proxy.reset()
            report = ingest_files(runtime, [path], "nginx", agency="binhdinh", system="dvc-binhdinh",
                                  batch_lines=args.batch_size)
            seen = list(proxy.seen)
            figures.append((report, seen))
        runtime.close()
        proxy.close()
    per_10k = [len(seen) * 10_000 / max(report.decode.events, 1) for report, seen in figures]
    # ``ingest_files`` ends with one explicit ``store.refresh()`` per run, whatever its size (so the command's
    # results are searchable at once): counted apart from the batches' requests.
    ends = [int(bool(seen) and seen[-1].forces_refresh) for _, seen in figures]
    refreshes = [sum(r.forces_refresh for r in seen) - end for (_, seen), end in zip(figures, ends, strict=True)]
    report, seen = figures[1]
    bulks = [r for r in seen if r.is_bulk]
    floor = -(-args.lines // args.batch_size)
    print(f"store setup: {setup} requests (templates, indices), not counted below")
    for label, (rep, s), rate, forced in zip(("first file", "steady state"), figures, per_10k, refreshes,
                                             strict=True):
        print(f"{label}: {rep.decode.events:,} events, {rep.alerts} alerts, {rep.incidents_created} incidents new, "
              f"{rep.incidents_updated} updated → {len(s)} requests ({rate:.1f} per 10k events), "
              f"{forced} forcing a refresh in the batches (+ the run's closing refresh)")
    print("steady state by kind: " + ", ".join(f"{k}={v}" for k, v in describe(seen).most_common()))
    print(f"floor: {floor} bulk per file of {args.lines} lines in batches of {args.batch_size}; steady state is "
          f"{len(seen) / floor:.1f}× the floor")
    docs = [r.bulk_actions for r in bulks] or [0]
    sizes = [len(r.body) for r in bulks] or [0]
    print(f"bulks: {len(bulks)}, documents max {max(docs)} / mean {sum(docs) / len(docs):.0f}, "
          f"bytes max {max(sizes):,} / mean {sum(sizes) / len(sizes):,.0f}")
    first_report = figures[0][0]
    print(f"RESULT requests_per_10k={per_10k[1]:.1f} forced_refreshes={refreshes[1]} bulk_requests={len(bulks)} "
          f"bulk_docs_max={max(docs)} bulk_bytes_max={max(sizes)} first_requests_per_10k={per_10k[0]:.1f} "
          f"first_forced_refreshes={refreshes[0]} end_of_run_refreshes={ends[1]} "
          f"incidents={first_report.incidents_created + report.incidents_created} "
          f"alerts={first_report.alerts + report.alerts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
