"""The behaviour detector's features and baselines are the same on SQLite and on Elasticsearch: both stores
hand it the same events and keep its state alike, so either raises the same alerts."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.config_detection import BehaviourSettings
from canhgac.detectors.behaviour import BehaviourDetector
from canhgac.storage.base import Store

from tests.detectors.behaviour_support import OFFICIALS, START, Office, local

DAYS = 8


def test_baselines_and_alerts_are_equal_on_both_stores(sqlite_store: Store, elasticsearch_store: Store) -> None:
    office = Office(seed=5)
    office.ordinary_days(DAYS)
    office.burst_export(OFFICIALS[2], local(7, 9, 5), 600)
    settings = BehaviourSettings(backfill_days=DAYS + 1, warmup_days=3)
    results = []
    for store in (sqlite_store, elasticsearch_store):
        office.store(store)
        alerts = []
        for hours in (60, 130, 24 * DAYS):  # three runs, as a scheduler would make them
            at = START + timedelta(hours=hours)
            alerts += BehaviourDetector(store, settings, clock=lambda at=at: at).run()
        store.refresh()
        results.append(([a.model_dump(exclude={"created"}) for a in alerts],
                        store.list_state("behaviour:live:", limit=1000)))
    (sqlite_alerts, sqlite_state), (es_alerts, es_state) = results
    assert len(sqlite_state) == len(OFFICIALS) + 2  # every official's baseline, the cursor, the day's crowd
    assert sqlite_state == es_state
    assert [a["rule_id"] for a in sqlite_alerts] == ["canhgac-behaviour-volume"]
    assert sqlite_alerts == es_alerts
