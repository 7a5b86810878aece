"""Data-leak detection: the behaviour detector over a simulated month with labelled leak scenarios.

    python bench/leak_detection.py [--seed 7] [--days 30] [--officials 300] [--clients 40] [--keep DIR]
    python bench/leak_detection.py --data DIR --alerts FILE     # score an alerts file against DIR's labels

Generates the month (canhgac/leak_simulator.py, scenarios from bench/leak_scenarios.yaml) into a temporary
folder, runs ``canhgac ingest`` on each agency's files into an embedded store under a temporary
``CANHGAC_HOME``, then ``canhgac hunt --behaviour`` over the whole period. A scenario is detected when an alert
names its agency and entity (account, and calling system for an API client) with a window overlapping the
scenario's [start, end + 1 day]; its time to alert runs from the scenario's start to ``details.detected_at``.
Every other alert is false, counted per 1,000 entity-days of the benign population (an entity active on a
day, outside its own scenario's days). Ends with one ``RESULT key=value ...`` line."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.leak_scenarios import KINDS
from canhgac.leak_simulator import generate

CLI = [sys.executable, "-c", "import sys; from canhgac.cli import main; sys.exit(main())"]


@dataclass
class Outcome:
    label: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return bool(self.alerts)

    @property
    def minutes(self) -> float | None:
        if not self.alerts:
            return None
        start = _time(self.label["start"])
        return min((_detected_at(a) - start).total_seconds() / 60 for a in self.alerts)


@dataclass
class Score:
    outcomes: list[Outcome]
    false_alerts: list[dict[str, Any]]
    benign_entity_days: int

    @property
    def false_per_1000(self) -> float:
        return 1000 * len(self.false_alerts) / self.benign_entity_days if self.benign_entity_days else 0.0

    @property
    def median_minutes(self) -> float | None:
        found = [o.minutes for o in self.outcomes if o.minutes is not None]
        return statistics.median(found) if found else None

    @property
    def kinds(self) -> tuple[int, int]:
        present = {o.label["kind"] for o in self.outcomes}
        return len({o.label["kind"] for o in self.outcomes if o.detected}), len(present | set(KINDS))

    def result_line(self) -> str:
        found = sum(o.detected for o in self.outcomes)
        median = "nan" if self.median_minutes is None else f"{self.median_minutes:.0f}"
        kinds, total = self.kinds
        return (f"RESULT scenarios_detected={found}/{len(self.outcomes)} "
                f"false_per_1000_entity_days={self.false_per_1000:.2f} median_minutes_to_alert={median} "
                f"kinds_detected={kinds}/{total}")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _detected_at(alert: dict[str, Any]) -> datetime:
    details = alert.get("details") or {}
    return _time(details.get("detected_at") or alert["last_seen"])


def _window(alert: dict[str, Any]) -> tuple[datetime, datetime]:
    window = (alert.get("details") or {}).get("window") or {}
    return _time(window.get("start") or alert["first_seen"]), _time(window.get("end") or alert["last_seen"])


def names(alert: dict[str, Any], label: dict[str, Any]) -> bool:
    """Whether ``alert`` is about the scenario's agency and entity."""
    entity, who = label["entity"], alert.get("entities") or {}
    if alert.get("agency") != label["agency"] or who.get("user.name") != entity["id"]:
        return False
    return entity["kind"] != "client" or who.get("egov.caller.system") == entity.get("system")


def score(alerts: list[dict[str, Any]], labels: list[dict[str, Any]], benign_entity_days: int) -> Score:
    outcomes = [Outcome(label) for label in labels]
    false = []
    for alert in alerts:
        start, end = _window(alert)
        hit = False
        for outcome in outcomes:
            label = outcome.label
            if names(alert, label) and start < _time(label["end"]) + timedelta(days=1) and end > _time(label["start"]):
                outcome.alerts.append(alert)
                hit = True
        if not hit:
            false.append(alert)
    return Score(outcomes, false, benign_entity_days)


def report(result: Score, shown: int = 40) -> None:
    print(f"{'id':<4} {'kind':<21} {'agency':<19} {'entity':<26} {'found':<5} {'minutes':>8}  rules")
    for o in result.outcomes:
        label = o.label
        who = label["entity"]["id"] + (f"@{label['entity']['system']}" if label["entity"]["kind"] == "client" else "")
        rules = ",".join(sorted({a["rule_id"].removeprefix("canhgac-behaviour-") for a in o.alerts}))
        minutes = "" if o.minutes is None else f"{o.minutes:.0f}"
        print(f"{label['id']:<4} {label['kind']:<21} {label['agency']:<19} {who:<26} "
              f"{'yes' if o.detected else 'no':<5} {minutes:>8}  {rules}")
    by_kind = Counter(_false_kind(a) for a in result.false_alerts)
    print(f"false alerts: {len(result.false_alerts)} over {result.benign_entity_days} benign entity-days "
          "(rule / role / strongest feature)"
          + "".join(f"\n  {count:>4}  {kind}" for kind, count in by_kind.most_common()))
    for alert in result.false_alerts[:shown]:
        details = alert.get("details") or {}
        top = (details.get("findings") or [{}])[0]
        entity = details.get("entity") or {}
        start, _ = _window(alert)
        print(f"  false {alert['rule_id'].removeprefix('canhgac-behaviour-'):<12} {alert['agency']:<19} "
              f"{entity.get('id') or alert.get('entities')} ({entity.get('role')}) {start:%m-%d %H:%M}Z "
              f"{top.get('feature')}={top.get('value')} mean={top.get('baseline_mean')} "
              f"peer={top.get('peer_median')} z={top.get('z')}")


def _false_kind(alert: dict[str, Any]) -> str:
    details = alert.get("details") or {}
    top = (details.get("findings") or [{}])[0]
    role = (details.get("entity") or {}).get("role") or (details.get("entity") or {}).get("kind")
    return f"{alert['rule_id'].removeprefix('canhgac-behaviour-')} / {role} / {top.get('feature')}"


def canhgac(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CANHGAC_HOME": str(home), "CANHGAC_LANG": "en"}
    for name in ("CANHGAC_CONFIG", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    done = subprocess.run([*CLI, *argv], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"canhgac {' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def run(data: Path, home: Path, days: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    dead = 0
    for item in manifest["files"]:
        summary = json.loads(canhgac(home, "ingest", str(data / item["path"]), "--source", item["format"],
                                     "--agency", item["agency"], "--json").stdout)
        dead += summary["dead_letters"]
        print(f"  ingest {item['path']:<34} {summary['events_stored']:>7} events  {summary['seconds']:>6.1f} s  "
              f"{summary['alerts']} rule alerts")
    timings["ingest"] = time.perf_counter() - started
    if dead:
        print(f"WARNING: {dead} dead letters")
    started = time.perf_counter()
    out = canhgac(home, "hunt", "--behaviour", "--since", f"{days + 2}d", "--format", "jsonl").stdout
    timings["hunt"] = time.perf_counter() - started
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")], timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--officials", type=int, default=300)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--scenarios", type=Path, help="scenario file (default bench/leak_scenarios.yaml)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it (and its store)")
    parser.add_argument("--data", type=Path, help="an already generated folder: score it, do not generate")
    parser.add_argument("--alerts", type=Path, help="with --data: score this alerts file (JSON lines) instead of "
                                                    "ingesting and hunting")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canhgac-leak-") as tmp:
        data = args.data or args.keep or Path(tmp) / "data"
        timings: dict[str, float] = {}
        if not args.data:
            started = time.perf_counter()
            manifest = generate(data, seed=args.seed, days=args.days, officials=args.officials,
                                clients=args.clients, scenarios=args.scenarios).data
            timings["generate"] = time.perf_counter() - started
            print(f"generated {manifest['lines']} lines, {len(manifest['entities'])} entities, "
                  f"{manifest['scenarios']} scenarios in {timings['generate']:.1f} s ({data})")
        manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        labels = json.loads((data / "labels.json").read_text(encoding="utf-8"))
        if args.alerts:
            alerts = [json.loads(line) for line in args.alerts.read_text(encoding="utf-8").splitlines()
                      if line.strip()]
        else:
            alerts, more = run(data, (args.keep / "home") if args.keep else Path(tmp) / "home", manifest["days"])
            timings |= more
            if args.keep:  # rescore later with --data KEEP --alerts KEEP/alerts.jsonl
                (args.keep / "alerts.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n"
                                                                for a in alerts), encoding="utf-8")
        alerts = [a for a in alerts if a.get("detector", "behaviour") == "behaviour"]
        result = score(alerts, labels, manifest["benign_entity_days"])
        report(result)
        print("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
        print(result.result_line())


if __name__ == "__main__":
    main()
