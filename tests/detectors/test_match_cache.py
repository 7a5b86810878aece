"""Matches remembered by the values of the fields the rules read (detectors/matching.py) give exactly what
evaluating every rule on every event gives, and equal ties in correlation windows fire as sorted arrivals do."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from canhgac.core.config_detection import DetectionSettings
from canhgac.detectors.engine import DetectionEngine
from canhgac.detectors.evidence import with_evidence
from canhgac.detectors.sigma import SigmaDetector
from canhgac.detectors.sigma.windows import Aggregate, Entry, GroupWindow

from tests.detectors.support import rule_text, web_event
from tests.detectors.test_engine_split import traffic


def test_remembered_matches_give_the_alerts_of_evaluating_every_event(tmp_path: Path) -> None:
    events = traffic(tmp_path, 3000)
    engine = DetectionEngine(DetectionSettings())
    loaded = engine.current.loaded
    reference = SigmaDetector(loaded.rules, loaded.correlations)  # no cache: every rule on every event
    expected: list[tuple[str, str]] = []
    got: list[tuple[str, str]] = []
    for start in range(0, len(events), 500):
        batch = events[start:start + 500]
        expected += [(alert.id, alert.rule_id) for alert in reference.detect(with_evidence(batch))]
        got += [(alert.id, alert.rule_id) for alert in engine.detect(batch, engine.match(batch))]
    assert got == expected and len({rule for _, rule in got}) > 3
    assert engine.detector.correlation.snapshot(only_dirty=False) == reference.correlation.snapshot(
        only_dirty=False)


def test_values_equal_as_keys_but_not_to_the_rule_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "flag.yml").write_text(
        rule_text("selection:\n  labels.flag: true\ncondition: selection", title="Flag"), encoding="utf-8")
    engine = DetectionEngine(DetectionSettings(builtin_rules=False, rule_dirs=[str(tmp_path / "rules")]))
    events = [web_event({"labels.flag": value, "event.id": f"e{n}"}) for n, value in enumerate((1, True, 1.0, True))]
    hits = engine.match(events).hits
    assert [index for index, _, _ in hits] == [1, 3]  # 1 and 1.0 are equal to True as keys, not to the rule


@pytest.mark.parametrize(("kind", "threshold"), [("event_count", 5), ("value_count", 3)])
def test_ties_at_the_newest_time_fire_as_a_full_scan_finds(kind: str, threshold: int) -> None:
    """Whole-second logs make most arrivals ties; the short way for them gives what scanning every window does."""
    def verdict(aggregate: Aggregate, entries: list[Entry], lo: int, hi: int) -> bool:
        return aggregate.value() >= threshold

    rng = random.Random(11)
    short, scanning = GroupWindow(kind, 10_000), GroupWindow(kind, 10_000)
    fired = 0
    for second in range(120):
        for _ in range(rng.randrange(1, 6)):
            entry = Entry(second * 1000, f"{rng.random():.8f}", 0, f"user-{rng.randrange(4)}", ())
            found = [window.add(entry, verdict, needed=threshold, monotone=monotone)
                     for window, monotone in ((short, True), (scanning, False))]
            assert found[0] == found[1]
            if found[0] is not None:
                fired += 1
                short.consume(found[0])
                scanning.consume(found[1])  # type: ignore[arg-type]
            assert short.entries == scanning.entries
    assert fired >= 5
