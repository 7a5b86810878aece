"""Detection speed as the number of rules grows, and side by side with azuma on the same events.

    python bench/rules.py [--events 200000] [--azuma-events 2000]

The same web events (the simulator's portal traffic with attacks mixed in, parsed by the real decoder)
go through the evidence transform (detectors/evidence.py, as the engine runs it: in batches of 5,000 like
``canhgac ingest``, caches emptied before every timed run) and 10, 100 and 1,000 rules: the pack's
generating web rules, then variants of them whose literals are changed (each literal gets a distinct
token), so every variant costs what a real rule costs. azuma (an independent pure-Python Sigma matcher)
runs the rules it supports on a slice of the events; our engine runs the same rules on the same slice
(identical matches required) and on all events, both on events that already carry their evidence fields.
Ratios are taken against figures measured in the same run. Ends with one ``RESULT key=value ...`` line.
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.collectors.file import FileReader
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.core.model import Event, utcnow
from canhgac.detectors.evidence import clear_caches, with_evidence
from canhgac.detectors.sigma import CompiledRule, SigmaDetector, builtin_rules_dir, load_rules

from canhgac.simulator import Portal, TrafficSimulator

VARIANT_NAMESPACE = uuid.UUID("6f1c0d52-3c9e-4f59-9d0a-1f8e5b7c2a40")


def make_events(count: int) -> list[Event]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        simulator = TrafficSimulator([Portal("dvc-binhdinh", path)], path.with_name("auth.log"), seed=11)
        start = utcnow() - timedelta(days=1)
        lines: list[str] = []
        for n in range(count):
            at = start + timedelta(milliseconds=n * 40)
            if n % 500 == 0 and simulator.random.random() < 0.7:
                lines += [line for line in simulator.attack_lines(at)[1][:1] if line.count('"') >= 6]
            lines.append(simulator.citizen_line(at))
        path.write_text("".join(lines[:count]), encoding="utf-8")
        raw = FileReader(path).read(count + 10, final=True)
        origin = Origin(str(path), str(path), "binhdinh", "dvc-binhdinh")
        events, _ = LineDecoder(get_parser("nginx"), origin).decode(raw)
    return events


def base_rule_files() -> list[Path]:
    loaded = load_rules([builtin_rules_dir()])
    return [rule.path for rule in loaded.rules if rule.logsource.category == "webserver" and not rule.silent]


def vary(value: Any, token: str, regex: bool) -> Any:
    """The same kind of test with a different literal: a token added to every string (inside a regex, as a
    literal prefix)."""
    if isinstance(value, list):
        return [vary(item, token, regex) for item in value]
    if not isinstance(value, str):
        return value
    if regex:
        return f"{token}(?:{value})"
    return f"{value}{token}" if not value.endswith("*") else f"{token}{value}"


def variant(path: Path, number: int, folder: Path) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    token = f"q{number}z"
    detection = {}
    for name, block in data["detection"].items():
        if name == "condition":
            detection[name] = block
            continue
        items = block if isinstance(block, list) else [block]
        changed = [{key: vary(value, token, "|re" in key) for key, value in item.items()} if isinstance(item, dict)
                   else vary(item, token, False) for item in items]
        detection[name] = changed if isinstance(block, list) else changed[0]
    data.update(detection=detection, id=str(uuid.uuid5(VARIANT_NAMESPACE, f"{path.name}:{number}")),
                title=f"{data['title']} (variant {number})")
    target = folder / f"{path.stem}_v{number}.yml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def rule_set(size: int, folder: Path) -> list[CompiledRule]:
    bases = base_rule_files()
    chosen = bases[:10]
    paths = list(chosen)
    number = 0
    while len(paths) < size:
        paths.append(variant(chosen[number % len(chosen)], number, folder))
        number += 1
    loaded = load_rules(paths)
    assert not loaded.errors, [str(error) for error in loaded.errors]
    return loaded.rules


BATCH = 5000


def detect_all(detector: SigmaDetector, events: list[Event]) -> None:
    """What the engine does per batch: evidence fields added, then the rules."""
    for start in range(0, len(events), BATCH):
        detector.detect(with_evidence(events[start:start + BATCH]))


def throughput(action: Callable[[], object], count: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        clear_caches()
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return count / best


AZUMA_UNSUPPORTED = re.compile(r"\|(re|cidr|fieldref|expand|minute|hour|day|week|month|year|windash|base64|"
                               r"base64offset|utf16|utf16le|utf16be|wide|neq)\b")


def azuma_rules(rules: list[CompiledRule]) -> list[tuple[CompiledRule, Any]]:
    from azuma import Rule
    from canhgac.detectors.sigma.fieldmap import ecs_field

    found = []
    for rule in rules:
        data = yaml.safe_load(rule.path.read_text(encoding="utf-8"))
        if AZUMA_UNSUPPORTED.search(yaml.safe_dump(data["detection"])):
            continue
        data["detection"] = {name: block if name == "condition" else
                             ({"|".join([ecs_field(k.split("|")[0]), *k.split("|")[1:]]): v for k, v in block.items()}
                              if isinstance(block, dict) else
                              [{"|".join([ecs_field(k.split("|")[0]), *k.split("|")[1:]]): v for k, v in b.items()}
                               for b in block]) for name, block in data["detection"].items()}
        data.pop("title_vi", None)
        found.append((rule, Rule.model_validate(data)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--azuma-events", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    events = make_events(args.events)
    gc.freeze()  # the 200k events stay alive all run (a pipeline holds one batch): keep them out of GC passes
    count = len(events)
    print(f"{count} web events (simulated portal traffic with attacks, parsed by the nginx decoder)")
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {size: rule_set(size, Path(tmp)) for size in (10, 100, 1000)}
        for size, rules in sets.items():
            detector = SigmaDetector(rules)
            results[f"eps_{size}"] = throughput(lambda d=detector: detect_all(d, events), count, args.runs)
            matched = sum(len(detector.matching_rules(event)) for event in with_evidence(events[:20_000]))
            print(f"{size:>5} rules: {results[f'eps_{size}']:>10,.0f} events/s   "
                  f"({detector.prefilter.anchored} anchored by the prefilter, {matched} matches in the first 20k)")
        pack = load_rules([builtin_rules_dir()])
        full = SigmaDetector(pack.rules, pack.correlations)
        results["eps_pack"] = throughput(
            lambda: detect_all(SigmaDetector(pack.rules, pack.correlations), events), count, 1)
        results["eps_evidence"] = throughput(
            lambda: [with_evidence(events[start:start + BATCH]) for start in range(0, count, BATCH)], count, args.runs)
        print(f"whole pack ({len(pack.rules)} rules, {len(pack.correlations)} correlations): "
              f"{results['eps_pack']:>10,.0f} events/s; the evidence transform alone: "
              f"{results['eps_evidence']:>10,.0f} events/s")
        del full

        # matcher against matcher: both see the same events, evidence fields already added
        enriched = with_evidence(events)
        sample = enriched[: args.azuma_events]
        for size in (10, 100):
            supported = azuma_rules(sets[size])
            ours = SigmaDetector([rule for rule, _ in supported])
            started = time.perf_counter()
            theirs = [[rule.id for rule, reference in supported
                       if rule.route.events.accepts(event) and reference.match(event)] for event in sample]
            azuma_eps = len(sample) / (time.perf_counter() - started)
            identical = [[rule.id for rule in ours.matching_rules(event)] for event in sample] == theirs
            ours_eps = throughput(lambda d=ours: d.detect(enriched), count, args.runs)
            results.update({f"azuma_rules_{size}": len(supported), f"azuma_eps_{size}": azuma_eps,
                            f"ours_eps_{size}": ours_eps, f"identical_{size}": float(identical)})
            print(f"azuma on the {len(supported)} of {size} rules it supports, {len(sample)} events: {azuma_eps:,.1f} "
                  f"events/s; ours on the same rules, all events: {ours_eps:,.0f} events/s "
                  f"({ours_eps / azuma_eps:,.0f}x), identical matches: {identical}")
    scale = results["eps_1000"] / results["eps_10"]
    speedup = {size: results[f"ours_eps_{size}"] / results[f"azuma_eps_{size}"] for size in (10, 100)}
    identical = all(results[f"identical_{size}"] for size in (10, 100))

    def verdict(met: bool) -> str:
        return "met" if met else "not met"

    print(f"goals: 1,000 rules ≥ 0.5× 10 rules: {scale:.2f} ({verdict(scale >= 0.5)}); 100 rules ≥ 50k events/s: "
          f"{results['eps_100']:,.0f} ({verdict(results['eps_100'] >= 50_000)}); ≥ 100× azuma with identical "
          f"matches: {speedup[10]:,.0f}× on the 10-rule set, {speedup[100]:,.0f}× on the 100-rule set "
          f"({verdict(speedup[100] >= 100 and identical)} at 100 rules, {verdict(speedup[10] >= 100)} at 10)")
    print(f"RESULT events={count} eps_10={results['eps_10']:.0f} eps_100={results['eps_100']:.0f} "
          f"eps_1000={results['eps_1000']:.0f} ratio_1000_to_10={scale:.3f} eps_pack={results['eps_pack']:.0f} "
          f"eps_evidence={results['eps_evidence']:.0f} "
          f"azuma_rules_10={results['azuma_rules_10']:.0f} azuma_eps_10={results['azuma_eps_10']:.1f} "
          f"speedup_vs_azuma_10={speedup[10]:.0f} azuma_rules_100={results['azuma_rules_100']:.0f} "
          f"azuma_eps_100={results['azuma_eps_100']:.1f} speedup_vs_azuma_100={speedup[100]:.0f} "
          f"identical={str(identical).lower()}")


if __name__ == "__main__":
    main()
