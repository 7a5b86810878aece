"""The detection stage in the pipeline: hot reload of rules and indicators, checkpoints in the store."""

from __future__ import annotations

import os
from pathlib import Path

from canhgac.core.config_detection import DetectionSettings, IndicatorList
from canhgac.detectors.engine import DetectionEngine
from canhgac.storage.base import Store

from tests.detectors.support import auth_event, rule_text, web_event

SCANNER = rule_text("s:\n  c-useragent|contains: nikto\ncondition: s", title="Scanner")
BRUTE = """title: Burst
id: 55555555-5555-4555-8555-555555555555
status: test
correlation:
  type: event_count
  rules: [{base}]
  group-by: [source.ip]
  timespan: 5m
  condition: {{gte: 3}}
  generate: true
level: high
"""
FAILURE_ID = "66666666-6666-4666-8666-666666666666"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def touch(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_rules_and_indicators_reload_without_restart(tmp_path: Path) -> None:
    rules, lists = tmp_path / "rules", tmp_path / "bad.txt"
    rules.mkdir()
    lists.write_text("203.0.113.7\n", encoding="utf-8")
    clock = Clock()
    settings = DetectionSettings(builtin_rules=False, rule_dirs=[str(rules)], reload_seconds=2,
                                 indicators=[IndicatorList(name="bad", path=str(lists))])
    engine = DetectionEngine(settings, clock=clock)
    nikto = web_event({"user_agent.original": "Nikto/2.5", "source.ip": "198.51.100.1"})
    assert engine.detect([nikto]) == [] and engine.rule_count == 0
    touch(rules / "scanner.yml", SCANNER)
    clock.now = 1
    assert engine.detect([nikto]) == []  # not checked yet: every reload_seconds
    clock.now = 3
    assert [alert.rule_title for alert in engine.detect([nikto])] == ["Scanner"] and engine.reloads == 1
    touch(lists, "198.51.100.1\n")
    clock.now = 6
    assert sorted(alert.detector for alert in engine.detect([nikto])) == ["indicator", "sigma"]
    touch(rules / "scanner.yml", "title: broken\n")  # a broken edit is reported, the others keep running
    clock.now = 9
    assert [alert.detector for alert in engine.detect([nikto])] == ["indicator"]
    assert engine.errors and engine.errors[0].file == str(rules / "scanner.yml")


def test_open_windows_survive_a_reload_and_a_restart(tmp_path: Path, sqlite_store: Store) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    base = rule_text("s:\n  event.outcome: failure\ncondition: s", logsource="product: linux\n  service: sshd",
                     rule_id=FAILURE_ID, title="Failure")
    (rules / "base.yml").write_text(base, encoding="utf-8")
    (rules / "burst.yml").write_text(BRUTE.format(base=FAILURE_ID), encoding="utf-8")
    clock = Clock()
    settings = DetectionSettings(builtin_rules=False, rule_dirs=[str(rules)], reload_seconds=1)

    def failure(n: int) -> dict:  # type: ignore[type-arg]
        return auth_event({"event.id": f"f{n}", "@timestamp": f"2025-03-15T02:20:1{n}.000Z"})

    engine = DetectionEngine(settings, store=sqlite_store, clock=clock)
    assert [a.rule_title for a in engine.detect([failure(1)])] == ["Failure"]
    assert engine.checkpoint() == 1
    touch(rules / "scanner.yml", SCANNER)  # an unrelated change: the burst's window is carried over
    clock.now = 5
    assert [a.rule_title for a in engine.detect([failure(2)])] == ["Failure"] and engine.reloads == 1
    engine.checkpoint()
    restarted = DetectionEngine(settings, store=sqlite_store, clock=clock)
    titles = [a.rule_title for a in restarted.detect([failure(1), failure(2), failure(3)])]
    assert titles == ["Failure", "Failure", "Failure", "Burst"]  # replayed f1, f2 count once; f3 completes
    restarted.checkpoint()
    again = DetectionEngine(settings, store=sqlite_store, clock=clock)
    assert [a.rule_title for a in again.detect([failure(3)])] == ["Failure"]  # no second firing
