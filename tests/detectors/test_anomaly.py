"""The traffic anomaly detector: quiet on ordinary traffic, loud on a flood, says which features."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from canhgac.core.config import AnomalySettings
from canhgac.core.model import event_id, to_utc_iso
from canhgac.detectors.anomaly import RULE_ID, TrafficAnomalyDetector
from canhgac.storage.base import Store

START = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
SETTINGS = AnomalySettings(window_minutes=5, min_windows=24, history_windows=288, contamination=0.02, grace_seconds=60)


def traffic(store: Store, agency: str, windows: int, *, flood_at: int | None = None, seed: int = 1) -> None:
    rng = random.Random(seed)
    events = []
    for window in range(windows):
        flood = window == flood_at
        count = rng.randint(40, 60) * (12 if flood else 1)
        for n in range(count):
            at = START + timedelta(minutes=5 * window, seconds=rng.uniform(0, 299))
            ip = f"100.64.{rng.randint(0, 3)}.{rng.randint(1, 12)}" if not flood else f"203.0.113.{n % 250}"
            status = 503 if flood and n % 2 else (404 if rng.random() < 0.02 else 200)
            raw = f"{agency}-{window}-{n}".encode()
            events.append({"@timestamp": to_utc_iso(at), "event.id": event_id(agency, window * 10_000 + n, raw),
                           "event.original": raw.decode(), "organization.id": agency, "source.ip": ip,
                           "http.response.status_code": status})
    store.put_events(events)


def detector_at(store: Store, windows: int, *, after_close: float = 61) -> TrafficAnomalyDetector:
    """The detector as it runs ``after_close`` seconds after window number ``windows`` - 1 closed."""
    moment = START + timedelta(minutes=5 * windows, seconds=after_close)
    return TrafficAnomalyDetector(store, SETTINGS, clock=lambda: moment)


def test_ordinary_traffic_raises_nothing(sqlite_store: Store) -> None:
    traffic(sqlite_store, "binhdinh", 60)
    assert detector_at(sqlite_store, 60).run() == []


def test_a_flood_is_reported_with_the_features_that_stand_out(sqlite_store: Store) -> None:
    traffic(sqlite_store, "binhdinh", 60, flood_at=59)
    traffic(sqlite_store, "phuyen", 60, seed=2)
    alerts = detector_at(sqlite_store, 60).run()
    assert [a.agency for a in alerts] == ["binhdinh"]
    [found] = alerts
    assert found.rule_id == RULE_ID and found.detector == "anomaly"
    assert found.first_seen == START + timedelta(minutes=5 * 59)
    features = {f["feature"]: f for f in found.details["features"]}
    assert {"requests", "distinct_sources", "error_rate"} <= set(features)
    assert features["requests"]["value"] > 5 * features["requests"]["baseline"]
    # The page shows what "standing out" means: every reported deviation is at least the threshold.
    assert all(abs(f["z"]) >= found.details["threshold"] for f in features.values())
    assert "attack.t1498" in found.tags
    # The same window is not reported twice.
    assert detector_at(sqlite_store, 60).run() == []


def test_a_window_is_scored_only_after_the_grace_period(sqlite_store: Store) -> None:
    traffic(sqlite_store, "binhdinh", 60, flood_at=59)
    assert detector_at(sqlite_store, 60, after_close=30).run() == []  # late lines may still come
    [found] = detector_at(sqlite_store, 60, after_close=61).run()
    assert found.first_seen == START + timedelta(minutes=5 * 59)


def test_not_enough_history_means_no_verdict(sqlite_store: Store) -> None:
    traffic(sqlite_store, "binhdinh", 10, flood_at=9)
    assert detector_at(sqlite_store, 10).run() == []


def test_a_silent_portal_counts_as_zero_traffic(sqlite_store: Store) -> None:
    traffic(sqlite_store, "binhdinh", 50)
    alerts = detector_at(sqlite_store, 53).run()  # three windows with no request at all
    assert alerts and alerts[0].details["features"][0]["feature"] in ("requests", "distinct_sources")
    assert alerts[0].details["features"][0]["value"] == 0
