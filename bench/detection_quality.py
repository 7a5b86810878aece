"""Detection quality: recall per attack family and false positives on benign traffic, through the whole pipeline.

    python bench/detection_quality.py [--corpus DIR] [--misses FILE]

Each log of the corpus (``attacks/access.log`` with ``attacks/labels.jsonl``, ``benign/*.log``; see the
corpus README) is read by ``ingest_files`` — what ``canhgac ingest`` calls — into its own embedded store
under a temporary ``CANHGAC_HOME``, with the shipped rules. An attack line counts as detected when an
alert of a web-attack rule names its event; a benign line with such an alert is a false positive. Web-attack
rules are the detection rules of ``rules/web/`` tagged as exploitation of the application (ATT&CK T1190,
T1189, T1505.003): scanner user agents, probes and correlations do not count. The corpus path comes from
``--corpus``, else ``CANHGAC_CORPUS``, else ``../shared/corpus`` beside the repository. Ends with one
``RESULT key=value ...`` line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.core.config import load_settings
from canhgac.detectors.sigma import builtin_rules_dir, load_rules
from canhgac.storage.base import AlertCursor, AlertQuery, EventCursor, EventQuery

ATTACK_TAGS = ("attack.t1190", "attack.t1189", "attack.t1505.003")
#: Families and their goals; the RESULT keys use underscores (``path-traversal`` → ``recall_path_traversal``).
GOALS = {"sqli": 0.97, "xss": 0.97, "path-traversal": 0.97, "cmdi": 0.97, "rfi": 0.90, "ssti": 0.90, "xxe": 0.90}
FP_GOAL = 0.0005
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass
class FileResult:
    lines: int
    offsets: dict[str, int]  # event id → byte offset of its line
    hits: dict[str, set[str]] = field(default_factory=dict)  # event id → web-attack rules that alerted on it
    seconds: float = 0.0


def attack_rules() -> dict[str, str]:
    """Ids and titles of the web-attack rules of the shipped pack."""
    loaded = load_rules([builtin_rules_dir()])
    return {rule.id: rule.title for rule in loaded.rules
            if rule.path.parent.name == "web" and not rule.silent and any(tag in ATTACK_TAGS for tag in rule.tags)}


def ingest(path: Path, home: Path, wanted: dict[str, str]) -> FileResult:
    os.environ["CANHGAC_HOME"] = str(home)
    from canhgac.runtime import Runtime, ingest_files

    runtime = Runtime.build(load_settings())
    try:
        report = ingest_files(runtime, [path], "nginx", agency="binhdinh", system="dvc-binhdinh")
        result = FileResult(report.decode.events, {}, seconds=report.seconds)
        query = EventQuery(limit=5000, newest_first=False)
        while batch := runtime.store.search_events(query):
            result.offsets.update((event["event.id"], int(event["log.offset"])) for event in batch)
            query = EventQuery(limit=5000, newest_first=False, after=EventCursor.of(batch[-1]))
        alerts = AlertQuery(limit=5000)
        while batch := runtime.store.search_alerts(alerts):
            for alert in batch:
                if alert.rule_id in wanted:
                    for event_id in alert.event_ids:
                        result.hits.setdefault(event_id, set()).add(alert.rule_id)
            alerts = AlertQuery(limit=5000, after=AlertCursor.of(batch[-1]))
    finally:
        runtime.close()
    return result


def labels(corpus: Path) -> dict[int, str]:
    with (corpus / "attacks" / "labels.jsonl").open(encoding="utf-8") as handle:
        return {record["offset"]: record["class"] for record in map(json.loads, handle)}


def line_at(path: Path, offset: int) -> str:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.readline().decode("utf-8", errors="replace").rstrip("\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("CANHGAC_CORPUS") or DEFAULT_CORPUS))
    parser.add_argument("--misses", type=Path, help="write missed attack lines and benign hits here (JSON lines)")
    args = parser.parse_args()
    corpus: Path = args.corpus
    os.environ.pop("CANHGAC_CONFIG", None)
    os.environ.pop("SLACK_BOT_TOKEN", None)
    wanted = attack_rules()
    print(f"{len(wanted)} web-attack rules; corpus {corpus}")
    by_offset = labels(corpus)
    attack_log = corpus / "attacks" / "access.log"
    benign_logs = sorted((corpus / "benign").glob("*.log"))
    notes: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        attacks = ingest(attack_log, Path(tmp) / "attacks", wanted)
        benign = {log.stem: ingest(log, Path(tmp) / log.stem, wanted) for log in benign_logs}

    total: Counter[str] = Counter(by_offset.values())
    detected: Counter[str] = Counter()
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for event_id, offset in attacks.offsets.items():
        family = by_offset[offset]
        rules = attacks.hits.get(event_id)
        if rules:
            detected[family] += 1
            for rule_id in rules:
                by_rule[family][wanted[rule_id]] += 1
        else:
            notes.append({"kind": "miss", "class": family, "offset": offset,
                          "target": unquote(line_at(attack_log, offset).split('"')[1])})
    print(f"attacks: {attacks.lines} lines in {attacks.seconds:.1f} s")
    print(f"{'family':<16} {'lines':>6} {'detected':>9} {'recall':>8}  goal")
    recall: dict[str, float] = {}
    for family in sorted(total, key=lambda name: -total[name]):
        recall[family] = detected[family] / total[family]
        goal = GOALS.get(family, 0.90)
        print(f"{family:<16} {total[family]:>6} {detected[family]:>9} {recall[family]:>8.4f}  ≥ {goal:.2f} "
              f"({'met' if recall[family] >= goal else 'not met'})")
        for title, count in by_rule[family].most_common(4):
            print(f"{'':<18}{count:>6}  {title}")
    fp: dict[str, float] = {}
    for name, result in benign.items():
        flagged = {event_id: rules for event_id, rules in result.hits.items() if event_id in result.offsets}
        fp[name] = len(flagged) / result.lines if result.lines else 0.0
        per_rule = Counter(wanted[rule_id] for rules in flagged.values() for rule_id in rules)
        print(f"benign {name}: {result.lines} lines, {len(flagged)} with a web-attack alert, "
              f"fp rate {fp[name]:.4%} (goal ≤ {FP_GOAL:.2%}: {'met' if fp[name] <= FP_GOAL else 'not met'})"
              + "".join(f"\n    {count:>5}  {title}" for title, count in per_rule.most_common()))
        log = corpus / "benign" / f"{name}.log"
        for event_id, rules in flagged.items():
            notes.append({"kind": "false_positive", "file": name, "rules": sorted(wanted[r] for r in rules),
                          "target": unquote(line_at(log, result.offsets[event_id]).split('"')[1])})
    if args.misses:
        with args.misses.open("w", encoding="utf-8") as handle:
            for note in notes:
                handle.write(json.dumps(note, ensure_ascii=False) + "\n")
    keys = [f"recall_{family.replace('-', '_')}={recall.get(family, 0.0):.4f}" for family in GOALS]
    keys += [f"fp_{name}={rate:.5f}" for name, rate in fp.items()]
    print("RESULT " + " ".join(keys))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
