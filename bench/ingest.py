"""Ingest speed: parse + normalise, and the full pipeline (parse, detect, store in SQLite), against a bare
regex parse of the same lines measured in the same run (these machines are noisy; ratios travel).

    python bench/ingest.py [--lines 200000]

Ends with ``RESULT ingest_eps=… ratio_to_regex=… parse_eps=… parse_ratio=… regex_eps=…``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.config import load_settings
from canhgac.model import utcnow
from canhgac.simulator import Portal, TrafficSimulator
from collectors.file import FileReader
from collectors.lines import LineDecoder, Origin
from collectors.parsers import get_parser
from collectors.parsers.combined import LINE


def make_log(path: Path, count: int) -> None:
    simulator = TrafficSimulator([Portal("dvc-binhdinh", path)], path.with_name("auth.log"), seed=11)
    start = utcnow() - timedelta(days=1)
    lines = []
    for n in range(count):
        at = start + timedelta(milliseconds=n * 40)
        if n % 500 == 0:
            lines += simulator.attack_lines(at)[1][:1] if simulator.random.random() < 0.7 else []
        lines.append(simulator.citizen_line(at))
    with path.open("w", encoding="utf-8") as out:
        out.writelines(line for line in lines[:count] if line.count('"') >= 6)


def best_of(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        make_log(log, args.lines)
        raw = log.read_bytes().splitlines()
        texts = [line.decode() for line in raw]
        count = len(texts)
        print(f"{count} combined-log lines, {log.stat().st_size / 1e6:.1f} MB")

        match = LINE.match
        regex_s = best_of(args.runs, lambda: [match(t).groups() for t in texts])  # type: ignore[union-attr]

        reader_lines = FileReader(log).read(count + 10, final=True)
        origin = Origin(str(log), str(log), "binhdinh", "dvc-binhdinh")
        parse_s = best_of(args.runs, lambda: LineDecoder(get_parser("nginx"), origin).decode(reader_lines))

        os.environ["CANHGAC_HOME"] = str(Path(tmp) / "home")
        from canhgac.runtime import Runtime, ingest_files

        runtime = Runtime.build(load_settings())
        report = ingest_files(runtime, [log], "nginx", agency="binhdinh", system="dvc-binhdinh")
        runtime.close()

    regex_eps, parse_eps, ingest_eps = count / regex_s, count / parse_s, report.decode.events / report.seconds
    print(f"bare regex .groups():        {regex_eps:>10,.0f} lines/s   (floor)")
    print(f"parse + normalise:           {parse_eps:>10,.0f} events/s  ({parse_eps / regex_eps:.1%} of floor)")
    print(f"file → parse → detect → SQLite: {ingest_eps:>7,.0f} events/s  ({ingest_eps / regex_eps:.1%} of floor); "
          f"{report.events_stored} stored, {report.alerts} alerts, {report.incidents_created} incidents, "
          f"{report.decode.dead_letters} dead letters, {runtime.rule_count} rules")
    print(f"RESULT ingest_eps={ingest_eps:.0f} ratio_to_regex={ingest_eps / regex_eps:.4f} "
          f"parse_eps={parse_eps:.0f} parse_ratio={parse_eps / regex_eps:.4f} regex_eps={regex_eps:.0f}")


if __name__ == "__main__":
    main()
