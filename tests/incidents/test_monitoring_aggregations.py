"""The monitoring report's alert figures come from store aggregations: it never pages through alerts, and it
agrees with a count made by reading every alert — on both stores."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.core.directory import Directory
from canhgac.core.model import Severity
from canhgac.incidents.grouping import attack_from_tags
from canhgac.incidents.monitoring import monitoring_report, period_bounds
from canhgac.storage.base import AlertQuery, Store

from tests.storage.test_contract import T0, make_alert

DAY = T0.date()


def _alerts() -> list[Any]:
    out = []
    for n in range(120):
        system = ("dvc-binhdinh" if n % 4 == 1 else "not-configured") if n % 2 else None
        out.append(make_alert(n, minutes=n * 7, severity=list(Severity)[n % 4],
                              rule_id=f"rule-{n % 5}").model_copy(update={
            "count": 1 + n % 3, "rule_title": f"Luật {n % 5}", "system": system,
            "agency": "quynhon" if n % 3 else "binhdinh",
            "tags": ["attack.t1190", "attack.initial_access"] if n % 4 else ["attack.t1110"],
            "entities": {"source.ip": f"203.0.113.{n % 9}"} if n % 5 else {}}))
    return out


def _read_every_alert(store: Store, directory: Directory, day: date) -> dict[str, Any]:
    start, end = period_bounds("weekly", day)
    found = store.search_alerts(AlertQuery(start=start, end=end, limit=10_000))
    targets: Counter[str] = Counter()
    techniques: Counter[str] = Counter()
    for alert in found:
        system = directory.systems.get(alert.system) if alert.system else None
        targets[system.name if system else alert.agency] += alert.count
        for technique in attack_from_tags(alert.tags)[1]:
            techniques[technique] += alert.count
    return {"total": sum(a.count for a in found),
            "severity": {s: sum(a.count for a in found if a.severity is s) for s in Severity},
            "targets": targets, "techniques": techniques}


def test_report_agrees_with_reading_every_alert_and_reads_none(store: Store,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(EXAMPLE_CONFIG)
    directory = Directory(settings)
    store.put_alerts(_alerts())
    store.refresh()
    expected = _read_every_alert(store, directory, DAY)
    assert expected["total"] > 100

    def no_paging(*args: object, **kwargs: object) -> None:
        raise AssertionError("the monitoring report must not page through alerts")

    monkeypatch.setattr(store, "search_alerts", no_paging)
    report = monitoring_report(store, directory, None, None, "weekly", DAY + timedelta(days=1))
    assert report.alerts_total == expected["total"]
    assert report.alerts_by_severity == expected["severity"]
    assert [(c.key, c.count) for c in report.targets] == sorted(expected["targets"].items(),
                                                                key=lambda kv: (-kv[1], kv[0]))[:10]
    assert {c.key: c.count for c in report.techniques} == dict(expected["techniques"])
    assert not report.truncated
