"""Worst time per line that crafted input can cost, for every parser and every rule of the pack.

    python bench/adversarial.py [--sizes 1024,8192,65536] [--repeat 3]

Pathological payloads (long runs of what backtracking engines choke on: spaces, ``+``, ``%20``, SQL
comments, quotes, brackets, ``../``, keyword soup, template and lookup openers) of each size are put into
every attacker-controlled place of a line of each log format: the query string, the path, the user
agent and the referrer of web logs, the message of syslog and sshd lines, a JSON value of JSON logs.
Each line is timed through its parser (the collector's decoder), the evidence transform and every rule's
condition one by one (no prefilter, so every rule meets every payload), and through the whole detection
engine. The floor is the same work on an ordinary portal request measured in the same run; figures are
given in milliseconds and as ratios to that floor. Ends with one ``RESULT key=value ...`` line; the goal
is a worst time per line under 10 ms.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser, known_formats
from canhgac.collectors.raw import RawLine
from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.core.model import Event
from canhgac.detectors.engine import DetectionEngine
from canhgac.detectors.evidence import event_with_evidence

UNITS = {
    "spaces": " ", "plus": "+", "pct20": "%20", "sql_comment": "/**/", "quote": "'", "dquote": '"',
    "paren": "(", "lt": "<", "traversal": "../", "backslash": "\\", "union": "union ", "select": "select/**/",
    "or_eq": "' or 1=", "dollar_brace": "${", "jndi": "${jndi:", "braces": "{{", "semicolon": ";",
    "pipe": "|", "amp": "&", "equals": "a=", "percent": "%", "word": "a", "at": "@@", "hex": "0x41",
}
LOCAL = "22/Nov/2026:15:04:05 +0700"
WEB = '203.0.113.7 - - [{t}] "GET /tra-cuu{path}?q={query} HTTP/1.1" 200 512 "{referrer}" "{agent}"'
TEMPLATES: dict[str, list[Callable[[str], str]]] = {
    "nginx": [
        lambda p: WEB.format(t=LOCAL, path="", query=p, referrer="-", agent="Mozilla/5.0"),
        lambda p: WEB.format(t=LOCAL, path="/" + p, query="1", referrer="-", agent="Mozilla/5.0"),
        lambda p: WEB.format(t=LOCAL, path="", query="1", referrer="-", agent=p),
        lambda p: WEB.format(t=LOCAL, path="", query="1", referrer=p, agent="Mozilla/5.0"),
        lambda p: "selectunion" + p,
    ],
    "sshd": [
        lambda p: f"Nov 22 15:04:05 dvc-web01 sshd[811]: Failed password for {p} from 198.51.100.2 port 5 ssh2",
        lambda p: f"Nov 22 15:04:05 dvc-web01 sshd[811]: pam_unix(sshd:auth): authentication failure;{p}x",
        lambda p: f"Nov 22 15:04:05 dvc-web01 sshd[811]: Invalid user {p} from{p}",
        lambda p: f"Nov 22 15:04:05 dvc-web01 sshd[811]: Connection closed by invalid user {p} 1.2.3.4 port{p}",
        lambda p: f"Nov 22 15:04:05 dvc-web01 sudo: {p} : {p}; USER=root ; COMMAND={p}",
    ],
    "syslog": [
        lambda p: f"<38>1 2026-11-22T15:04:05+07:00 dvc-web01 sshd 811 - - {p}",
        lambda p: f"<38>Nov 22 15:04:05 dvc-web01 {p}: {p}",
    ],
    "onestop": [lambda p: json.dumps({"ts": "2026-11-22T15:04:05+07:00", "user": p, "action": p, "q": p})],
}
ALSO = {"apache": "nginx", "combined": "nginx", "auth": "sshd", "iis": None, "modsecurity": None,
        "fortigate": None, "netfilter": None, "eoffice": "onestop", "gateway": "onestop"}


def payload(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def decoder_for(fmt: str) -> LineDecoder:
    return LineDecoder(get_parser(fmt), Origin(f"bench:{fmt}", f"bench:{fmt}", "binhdinh", "dvc-binhdinh"))


def timed(work: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def generic_template(fmt: str) -> list[Callable[[str], str]]:
    return [lambda p: p, lambda p: f"Nov 22 15:04:05 host prog[1]: {p}", lambda p: json.dumps({"message": p})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1024,8192,65536")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    settings = load_settings(EXAMPLE_CONFIG)
    engine = DetectionEngine(settings.detection)
    rules = engine.detector.rules
    print(f"{len(rules)} rules, {len(known_formats())} formats, payload sizes {sizes}")

    benign = decoder_for("nginx")
    line = WEB.format(t=LOCAL, path="/thu-tuc", query="ma_ho_so=000.00.12.H08-250315-0001", referrer="-",
                      agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36")
    floor_parse, _ = timed(lambda: benign.decode([RawLine(0, line.encode())]), 200)
    events, _ = benign.decode([RawLine(0, line.encode())])
    enriched = event_with_evidence(events[0])
    floor_detect, _ = timed(lambda: [rule.condition.matches(enriched) for rule in rules], 50)
    floor = floor_parse + floor_detect
    print(f"floor: an ordinary request, parsed and run through every rule: {floor * 1000:.3f} ms")

    worst: dict[str, tuple[float, str]] = {"parse": (0.0, ""), "rule": (0.0, ""), "engine": (0.0, "")}
    for fmt in known_formats():
        templates = TEMPLATES.get(fmt) or TEMPLATES.get(ALSO.get(fmt) or "") or generic_template(fmt)
        decoder = decoder_for(fmt)
        for index, template in enumerate(templates):
            for unit_name, unit in UNITS.items():
                for size in sizes:
                    raw = template(payload(unit, size)).encode()
                    where = f"{fmt}#{index} {unit_name}×{size}"
                    seconds, decoded = timed(lambda raw=raw, decoder=decoder: decoder.decode([RawLine(0, raw)]),
                                             args.repeat)
                    worst["parse"] = max(worst["parse"], (seconds, where))
                    found: list[Event] = decoded[0]  # type: ignore[index]
                    if not found:
                        continue
                    # rules read the evidence fields: time the transform, then every rule on its output
                    total, event = timed(lambda found=found: event_with_evidence(found[0]), 1)
                    for rule in rules:
                        spent, _ = timed(lambda rule=rule, event=event: rule.condition.matches(event), 1)
                        total += spent
                        worst["rule"] = max(worst["rule"], (spent, f"{where} · {Path(str(rule.path)).stem}"))
                    spent, _ = timed(lambda event=event: engine.detect([dict(event)]), 1)
                    worst["engine"] = max(worst["engine"], (spent + seconds, where))
                    worst["line"] = max(worst.get("line", (0.0, "")), (seconds + total, where))
    for key, (seconds, where) in worst.items():
        print(f"worst {key:<7} {seconds * 1000:9.3f} ms  ({seconds / floor:8.1f}× floor)  {where}")
    line_ms = worst["line"][0] * 1000
    print(f"RESULT worst_line_ms={line_ms:.3f} worst_parse_ms={worst['parse'][0] * 1000:.3f} "
          f"worst_rule_ms={worst['rule'][0] * 1000:.3f} worst_engine_ms={worst['engine'][0] * 1000:.3f} "
          f"floor_ms={floor * 1000:.4f} worst_line_ratio={worst['line'][0] / floor:.1f} "
          f"goal_ms=10 goal_met={'yes' if line_ms < 10 else 'no'}")


if __name__ == "__main__":
    main()
