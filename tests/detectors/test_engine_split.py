"""Detection split in two halves (docs/decisions/0037): the stateless ``match`` that the decoding process runs,
and the correlations the pipeline runs in batch order, give exactly what one ``detect`` gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from canhgac.collectors.lines import LineDecoder, Origin, RawLine
from canhgac.collectors.parsers import get_parser
from canhgac.core.config_detection import DetectionSettings
from canhgac.core.model import Event, utcnow
from canhgac.detectors.engine import DetectionEngine, Matched
from canhgac.storage.base import Store

from canhgac.simulator import Portal, TrafficSimulator
from tests.detectors.test_engine import Clock


def traffic(tmp_path: Path, count: int = 4000) -> list[Event]:
    """Portal traffic with attacks mixed in, as the nginx parser makes it."""
    simulator = TrafficSimulator([Portal("dvc-binhdinh", tmp_path / "access.log")], tmp_path / "auth.log", seed=3)
    start = utcnow() - timedelta(hours=2)
    lines: list[str] = []
    for n in range(count):
        at = start + timedelta(milliseconds=n * 50)
        if n % 40 == 0:
            lines += simulator.attack_lines(at)[1]
        lines.append(simulator.citizen_line(at))
    raw, offset = [], 0
    for line in lines:
        raw.append(RawLine(offset, line.encode()))
        offset += len(line) + 1
    decoder = LineDecoder(get_parser("nginx"), Origin("/var/log/a.log", "/var/log/a.log", "binhdinh", "dvc-binhdinh"))
    events, _ = decoder.decode(raw)
    return events


def test_matching_elsewhere_then_correlating_gives_the_same_alerts_in_the_same_order(tmp_path: Path) -> None:
    events = traffic(tmp_path)
    whole, split = DetectionEngine(DetectionSettings()), DetectionEngine(DetectionSettings())
    correlations = {rule.id for rule in whole.detector.correlation.correlations}
    expected: list[tuple[str, str]] = []
    got: list[tuple[str, str]] = []
    for start in range(0, len(events), 700):
        batch = events[start:start + 700]
        expected += [(alert.id, alert.rule_id) for alert in whole.detect(batch)]
        got += [(alert.id, alert.rule_id) for alert in split.detect(batch, split.match(batch))]
    assert got == expected
    assert {rule for _, rule in got} & correlations and {rule for _, rule in got} - correlations  # both kinds
    assert split.detector.correlation.snapshot(only_dirty=False) == whole.detector.correlation.snapshot(
        only_dirty=False)


def test_a_match_made_before_a_reload_is_done_again(tmp_path: Path) -> None:
    events = traffic(tmp_path, 400)
    engine = DetectionEngine(DetectionSettings())
    nothing = Matched(engine.reloads, [], [])
    assert engine.detect(events, nothing) == []  # a current match is trusted as it is
    engine.reload()
    assert [a.id for a in engine.detect(events, nothing)] == [a.id for a in DetectionEngine(DetectionSettings())
                                                                .detect(events)]


def test_checkpoints_come_on_a_cadence(sqlite_store: Store) -> None:
    clock = Clock()
    engine = DetectionEngine(DetectionSettings(), store=sqlite_store, clock=clock, checkpoint_seconds=5)
    assert engine.checkpoint_if_due()  # the first batch saves at once
    clock.now = 3
    assert not engine.checkpoint_if_due()
    clock.now = 5
    assert engine.checkpoint_if_due() and not engine.checkpoint_if_due()
    engine.checkpoint()  # an explicit checkpoint restarts the cadence
    clock.now = 9
    assert not engine.checkpoint_if_due()
