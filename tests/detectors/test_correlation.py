"""Correlation windows: sliding, grouped, late events, replays, chains, and checkpoints across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from canhgac.core.model import to_utc_iso
from canhgac.detectors.sigma import SigmaDetector, load_rules
from canhgac.detectors.sigma.loader import LoadedRules

from tests.detectors.support import SSHD_LOGSOURCE, auth_event, rule_text

FAILURE_ID = "11111111-1111-4111-8111-111111111111"
SUCCESS_ID = "22222222-2222-4222-8222-222222222222"
START = datetime(2025, 3, 15, 2, 0, tzinfo=UTC)


def correlation(kind: str, *, rules: str = FAILURE_ID, timespan: str = "5m", condition: str = "gte: 3",
                group_by: str = "source.ip", extra: str = "", rule_id: str = "33333333-3333-4333-8333-333333333333",
                name: str = "") -> str:
    condition_block = f"\n  condition:\n    {condition}" if condition else ""
    return (f"title: Test {kind}\nid: {rule_id}\n{name}status: test\ncorrelation:\n  type: {kind}\n  rules:\n"
            + "".join(f"    - {ref}\n" for ref in rules.split(","))
            + f"  group-by:\n    - {group_by}\n  timespan: {timespan}{condition_block}\n{extra}level: high\n")


def load(tmp_path: Path, *documents: str) -> LoadedRules:
    failure = rule_text("selection:\n  event.action: ssh_login\n  event.outcome: failure\ncondition: selection",
                        logsource=SSHD_LOGSOURCE, rule_id=FAILURE_ID, title="Failure")
    success = rule_text("selection:\n  event.action: ssh_login\n  event.outcome: success\ncondition: selection",
                        logsource=SSHD_LOGSOURCE, rule_id=SUCCESS_ID, title="Success")
    failure = failure.replace("title: Failure\n", "title: Failure\nname: failure\n")
    success = success.replace("title: Success\n", "title: Success\nname: success\n")
    (tmp_path / "rules").mkdir(parents=True, exist_ok=True)
    (tmp_path / "rules" / "base.yml").write_text(failure + "---\n" + success, encoding="utf-8")
    (tmp_path / "rules" / "corr.yml").write_text("---\n".join(documents), encoding="utf-8")
    loaded = load_rules([tmp_path / "rules"])
    assert loaded.errors == [], [str(error) for error in loaded.errors]
    return loaded


def attempt(second: float, *, outcome: str = "failure", ip: str = "203.0.113.9", user: str = "root",
            event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    moment = START + timedelta(seconds=second)
    return auth_event({"@timestamp": to_utc_iso(moment), "event.outcome": outcome, "source.ip": ip,
                       "user.name": user, "event.id": event_id or f"e-{outcome}-{ip}-{user}-{second}", **fields})


def fired(detector: SigmaDetector, events: list[dict[str, Any]], rule_id: str) -> list[Any]:
    return [alert for alert in detector.detect(events) if alert.rule_id == rule_id]


def test_event_count_fires_once_per_full_window_with_evidence(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    events = [attempt(second) for second in (0, 10, 20, 30, 40, 50)]
    [first, second] = fired(detector, events, loaded.correlations[0].id)
    assert first.event_ids == [event["event.id"] for event in events[:3]]
    assert second.event_ids == [event["event.id"] for event in events[3:]]
    assert first.count == 3 and first.entities == {"source.ip": "203.0.113.9"}
    assert first.first_seen == START and first.last_seen == START + timedelta(seconds=20)
    assert first.details["correlation"] == "event_count" and first.details["value"] == 3


def test_window_slides_in_event_time(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count", timespan="1m"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    # 0, 50, 100, 150 s: no three within 60 s; then 160 s gives 100, 150, 160.
    assert fired(detector, [attempt(s) for s in (0, 50, 100, 150)], loaded.correlations[0].id) == []
    [alert] = fired(detector, [attempt(160)], loaded.correlations[0].id)
    assert alert.first_seen == START + timedelta(seconds=100)


def test_groups_are_separate_and_agencies_never_mix(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    events = [attempt(1, ip="198.51.100.1"), attempt(2, ip="198.51.100.2"), attempt(3, ip="198.51.100.1"),
              attempt(4, **{"organization.id": "phuyen"}), attempt(5), attempt(6, ip="198.51.100.2")]
    assert fired(detector, events, loaded.correlations[0].id) == []
    [alert] = fired(detector, [attempt(7, ip="198.51.100.1")], loaded.correlations[0].id)
    assert alert.agency == "binhdinh" and alert.entities == {"source.ip": "198.51.100.1"}


def test_late_events_inside_lateness_count_and_later_ones_are_counted_as_late(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    rule_id = loaded.correlations[0].id
    detector = SigmaDetector(loaded.rules, loaded.correlations, lateness_seconds=60)
    assert fired(detector, [attempt(1000), attempt(1010)], rule_id) == []
    [alert] = fired(detector, [attempt(960)], rule_id)  # 50 s late, inside the 60 s lateness
    assert alert.first_seen == START + timedelta(seconds=960)
    assert fired(detector, [attempt(2000), attempt(2001), attempt(1900)], rule_id) == []  # 101 s late
    assert detector.correlation.late_events() == {rule_id: 1}


def test_replayed_events_are_not_counted_twice(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    batch = [attempt(1), attempt(2)]
    assert fired(detector, batch + batch + batch, loaded.correlations[0].id) == []
    fired_once = fired(detector, [attempt(3)], loaded.correlations[0].id)
    assert len(fired_once) == 1
    assert fired(detector, [*batch, attempt(3)], loaded.correlations[0].id) == []  # already fired: not again


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("value_count", condition="field: user.name\n    gte: 3"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    same_user = [attempt(second) for second in range(10)]
    assert fired(detector, same_user, loaded.correlations[0].id) == []
    [alert] = fired(detector, [attempt(11, user="admin"), attempt(12, user="oracle")], loaded.correlations[0].id)
    assert alert.details["value"] == 3


@pytest.mark.parametrize(("kind", "condition", "values", "fires"), [
    ("value_sum", "field: labels.bytes\n    gte: 100", [40, 30, 30], True),
    ("value_sum", "field: labels.bytes\n    gt: 100", [40, 30, 30], False),
    ("value_avg", "field: labels.bytes\n    gte: 50", [10, 90, 95], True),
    ("value_avg", "field: labels.bytes\n    lt: 5", [10, 20, 30], False),
    ("value_avg", "field: labels.bytes\n    lt: 5", [1, 2, 3], True),
])
def test_value_sum_and_avg(tmp_path: Path, kind: str, condition: str, values: list[int], fires: bool) -> None:
    loaded = load(tmp_path, correlation(kind, condition=condition))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    events = [attempt(index, **{"labels.bytes": value}) for index, value in enumerate(values)]
    assert bool(fired(detector, events, loaded.correlations[0].id)) is fires


def test_temporal_needs_every_rule_in_any_order(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("temporal", rules=f"{FAILURE_ID},{SUCCESS_ID}", condition=""))
    rule_id = loaded.correlations[0].id
    assert fired(SigmaDetector(loaded.rules, loaded.correlations), [attempt(s) for s in range(5)], rule_id) == []
    events = [attempt(10, outcome="success"), attempt(20)]
    assert len(fired(SigmaDetector(loaded.rules, loaded.correlations), events, rule_id)) == 1


def test_temporal_ordered_needs_the_order(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("temporal_ordered", rules=f"{FAILURE_ID},{SUCCESS_ID}", condition=""))
    rule_id = loaded.correlations[0].id
    reversed_order = [attempt(10, outcome="success"), attempt(20)]
    assert fired(SigmaDetector(loaded.rules, loaded.correlations), reversed_order, rule_id) == []
    in_order = [attempt(10), attempt(20, outcome="success")]
    assert len(fired(SigmaDetector(loaded.rules, loaded.correlations), in_order, rule_id)) == 1
    too_far = [attempt(10), attempt(400, outcome="success")]
    assert fired(SigmaDetector(loaded.rules, loaded.correlations), too_far, rule_id) == []


def test_extended_temporal_condition(tmp_path: Path) -> None:
    text = correlation("temporal", rules="failure,success", condition="")
    loaded = load(tmp_path, text.replace("level: high", "  condition: failure and not success\nlevel: high"))
    rule_id = loaded.correlations[0].id
    assert len(fired(SigmaDetector(loaded.rules, loaded.correlations), [attempt(1)], rule_id)) == 1
    assert fired(SigmaDetector(loaded.rules, loaded.correlations), [attempt(1, outcome="success")], rule_id) == []


def test_chained_correlation_and_generate_flag(tmp_path: Path) -> None:
    burst = correlation("event_count", name="name: burst\n", rule_id="44444444-4444-4444-8444-444444444444")
    chain = correlation("temporal_ordered", rules=f"burst,{SUCCESS_ID}", condition="", timespan="30m")
    loaded = load(tmp_path, burst, chain)
    by_title = {rule.title: rule for rule in loaded.rules}
    assert by_title["Failure"].silent and by_title["Success"].silent  # generate: false by default
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    events = [attempt(s) for s in (0, 5, 10)] + [attempt(600, outcome="success")]
    alerts = detector.detect(events)
    [alert] = alerts  # neither the base rules nor the silent burst alert on their own
    assert alert.rule_id == "33333333-3333-4333-8333-333333333333"
    assert alert.event_ids == [event["event.id"] for event in events]


def test_checkpoint_restart_neither_refires_nor_misses(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    rule_id = loaded.correlations[0].id
    first = SigmaDetector(loaded.rules, loaded.correlations)
    assert fired(first, [attempt(1), attempt(2)], rule_id) == []
    saved = first.correlation.snapshot()
    assert set(saved) == {rule_id} and first.correlation.snapshot() == {}  # only what changed
    # restart: the third failure completes the window started before the restart
    second = SigmaDetector(load(tmp_path / "again", correlation("event_count")).rules, loaded.correlations)
    assert second.correlation.restore(saved) == 1
    [alert] = fired(second, [attempt(3)], rule_id)
    after_fire = second.correlation.snapshot()
    # a crash before the tail checkpoint replays the batch: nothing fires again
    third = SigmaDetector(loaded.rules, loaded.correlations)
    third.correlation.restore(after_fire)
    assert fired(third, [attempt(1), attempt(2), attempt(3)], rule_id) == []
    assert alert.id == fired(SigmaDetector(loaded.rules, loaded.correlations), [attempt(n) for n in (1, 2, 3)],
                             rule_id)[0].id  # same events, same alert id: replays are idempotent in the store


def test_changed_definition_does_not_restore_old_state(tmp_path: Path) -> None:
    loaded = load(tmp_path, correlation("event_count"))
    detector = SigmaDetector(loaded.rules, loaded.correlations)
    fired(detector, [attempt(1), attempt(2)], loaded.correlations[0].id)
    saved = detector.correlation.snapshot()
    changed = load(tmp_path / "changed", correlation("event_count", condition="gte: 4"))
    assert SigmaDetector(changed.rules, changed.correlations).correlation.restore(saved) == 0


@pytest.mark.parametrize(("kind", "condition", "reason"), [
    ("event_count", "lt: 3", "cannot be decided on a sliding event_count window"),
    ("value_percentile", "field: x\n    gte: 3", "not supported"),
])
def test_undecidable_correlations_are_refused_with_their_line(tmp_path: Path, kind: str, condition: str,
                                                              reason: str) -> None:
    (tmp_path / "c.yml").write_text(correlation(kind, condition=condition), encoding="utf-8")
    loaded = load_rules([tmp_path / "c.yml"])
    [error] = loaded.errors
    assert reason in error.message and error.line is not None and error.line > 1, str(error)
