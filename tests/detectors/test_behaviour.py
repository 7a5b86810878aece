"""The behaviour detector: quiet on ordinary office work, each leak pattern caught and explained, live detection
equal to a replay, and an analyst's "expected work" learned."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from canhgac.core.config import Settings
from canhgac.core.config_detection import BehaviourSettings
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, IncidentCategory
from canhgac.detectors.behaviour import BehaviourDetector
from canhgac.detectors.behaviour.feedback import mark_expected
from canhgac.incidents.clocks import ClockKind, clocks
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import Store

from tests.detectors.behaviour_support import OFFICIALS, START, UNITS, Leaks, Office, local

SETTINGS = BehaviourSettings()
DAYS = 21


def replay(store: Store, days: int = DAYS, settings: BehaviourSettings = SETTINGS) -> list[Alert]:
    return BehaviourDetector(store, settings).replay(START, START + timedelta(days=days))


def by_rule(alerts: list[Alert]) -> dict[str, list[Alert]]:
    found: dict[str, list[Alert]] = {}
    for alert in alerts:
        found.setdefault(alert.rule_id.removeprefix("canhgac-behaviour-"), []).append(alert)
    return found


@pytest.fixture
def office() -> Office:
    office = Office(seed=3)
    office.ordinary_days(DAYS)
    return office


def test_ordinary_work_raises_nothing(sqlite_store: Store, office: Office) -> None:
    office.store(sqlite_store)
    assert replay(sqlite_store) == []


def test_burst_export_is_one_explained_alert(sqlite_store: Store, office: Office) -> None:
    leaker = OFFICIALS[3]
    evidence = office.burst_export(leaker, local(10, 9, 5), 1240)  # Thursday 12/11, 09:05 local
    office.store(sqlite_store)
    alerts = replay(sqlite_store)
    assert [(a.rule_id, a.entities) for a in alerts] == [("canhgac-behaviour-volume", {"user.name": leaker.account})]
    alert = alerts[0]
    details = alert.details
    assert details["explanation_vi"].startswith(f"Cán bộ {leaker.account} đã xuất 1.240 hồ sơ trong 1 giờ; mức thường")
    assert "cán bộ cùng bộ phận" in details["explanation_vi"]
    assert details["explanation_en"].startswith(f"Official {leaker.account} exported 1,240 dossiers in 1 hour")
    finding = details["findings"][0]
    assert finding["feature"] == "exports" and finding["value"] == 1240 and finding["ratio"] > 10
    assert set(alert.event_ids) <= set(evidence) and len(alert.event_ids) == 20
    window_end = local(10, 10)
    assert alert.first_seen == local(10, 9) and alert.last_seen == window_end
    assert datetime.fromisoformat(details["detected_at"]) == window_end + timedelta(minutes=SETTINGS.grace_minutes)
    assert details["series"]["points"][-1][1] == 1240 and len(details["series"]["points"]) > 10
    assert alert.severity.value == "high"


def test_each_leak_pattern_is_caught_on_its_official(sqlite_store: Store, office: Office) -> None:
    leaks = Leaks(office)
    walker, stranger, night, drifter = OFFICIALS[1], OFFICIALS[2], OFFICIALS[4], OFFICIALS[5]
    leaks.enumeration(walker, local(9, 14, 5), 300)
    other = UNITS[1] if stranger.unit == UNITS[0] else UNITS[0]
    leaks.outside_unit(stranger, local(10, 10, 2), 60, other)
    leaks.night_session(night, local(11, 1, 10), 8)
    leaks.drift(drifter, 14, 5, 6)
    office.store(sqlite_store)
    found = by_rule(replay(sqlite_store))
    assert {a.entities["user.name"] for a in found["enumeration"]} == {walker.account}
    assert {a.entities["user.name"] for a in found["scope"]} == {stranger.account}
    assert {a.entities["user.name"] for a in found["off-hours"]} == {night.account}
    assert {a.entities["user.name"] for a in found["drift"]} == {drifter.account}
    night_alert = found["off-hours"][0]
    assert night_alert.details["new_networks"] == ["203.0.113.0/24"] and night_alert.details["new_devices"] == 1
    assert "01:00–01:59 thứ Sáu 13/11/2026" in night_alert.details["explanation_vi"]
    drift = found["drift"][0]
    assert drift.details["window"]["size"] == "days" and drift.first_seen == local(14, 0)
    assert "đã tải xuống" in drift.details["explanation_vi"] and "mỗi ngày" in drift.details["explanation_vi"]
    everyone = {a.entities["user.name"] for alerts in found.values() for a in alerts}
    assert everyone == {walker.account, stranger.account, night.account, drifter.account}


def test_live_detection_equals_a_replay(sqlite_store: Store, office: Office) -> None:
    office.burst_export(OFFICIALS[3], local(10, 9, 5), 1240)
    Leaks(office).night_session(OFFICIALS[4], local(11, 1, 10), 8)
    office.store(sqlite_store)
    settings = SETTINGS.model_copy(update={"backfill_days": DAYS + 1})
    live: list[Alert] = []
    moment = START - timedelta(days=1)
    while moment < START + timedelta(days=DAYS):  # a run every 7 hours, each by a new process (restart)
        moment += timedelta(hours=7)
        at = moment
        live += BehaviourDetector(sqlite_store, settings, clock=lambda at=at: at).run()
    replayed = BehaviourDetector(sqlite_store, settings).replay(START - timedelta(days=1),
                                                                  START + timedelta(days=DAYS))
    assert len(live) == 2
    assert [a.model_dump(exclude={"created"}) for a in live] == [a.model_dump(exclude={"created"}) for a in replayed]


def test_expected_work_is_learned(sqlite_store: Store, office: Office) -> None:
    clerk = OFFICIALS[6]
    office.burst_export(clerk, local(10, 9, 5), 1240)
    office.burst_export(clerk, local(17, 9, 5), 1240)  # the same work a week later
    office.store(sqlite_store)
    settings = SETTINGS.model_copy(update={"backfill_days": DAYS + 1})
    first = BehaviourDetector(sqlite_store, settings, clock=lambda: local(12, 0)).run()
    assert len(first) == 1
    record = mark_expected(sqlite_store, first[0], reason="đợt cao điểm cấp đổi giấy tờ", actor="analyst")
    assert record["verdict"] == "expected"
    later = BehaviourDetector(sqlite_store, settings, clock=lambda: local(DAYS, 0)).run()
    # learned: the second export is judged against a normal that includes the first
    assert first[0].details["findings"][0]["baseline_mean"] == 0
    assert [a.details["findings"][0]["baseline_mean"] > 1 for a in later] == [True]
    state = sqlite_store.get_state(f"behaviour:live:entity:{first[0].agency}|official|{clerk.account}")
    assert state is not None and state["hours"]["exports"][1] > 1
    assert sqlite_store.get_state(f"behaviour-feedback:{first[0].id}")["applied"] == ["live"]


def test_a_leak_opens_a_personal_data_incident_with_the_breach_clock(sqlite_store: Store, office: Office,
                                                                      settings: Settings) -> None:
    office.burst_export(OFFICIALS[3], local(10, 9, 5), 1240)
    office.store(sqlite_store)
    alerts = replay(sqlite_store)
    service = IncidentService(sqlite_store, Directory(settings), clock=lambda: local(10, 10, 11))
    sqlite_store.put_alerts(alerts)
    changes = service.ingest_alerts(alerts)
    incident = changes[0].incident
    assert IncidentCategory.personal_data_leak in incident.categories
    kinds = {clock.kind for clock in clocks(incident, settings, local(10, 11), serious=False)}
    assert ClockKind.breach_notice in kinds


def test_invented_names_cannot_grow_the_state_without_bound(sqlite_store: Store) -> None:
    office = Office(seed=4)
    office.ordinary_days(2)
    office.store(sqlite_store)
    settings = SETTINGS.model_copy(update={"max_entities_per_agency": 5, "backfill_days": 3})
    BehaviourDetector(sqlite_store, settings, clock=lambda: START + timedelta(days=2, hours=1)).run()
    followed = sqlite_store.list_state("behaviour:live:entity:", limit=100)
    assert sorted(doc["key"].rsplit("|", 1)[1] for doc in followed.values()) == [o.account for o in OFFICIALS[:5]]


def test_e_office_downloads_count_per_document(sqlite_store: Store, office: Office) -> None:
    clerk = OFFICIALS[7]
    for n in range(150):  # documents downloaded one after another from the e-office system, in one hour
        event = office.event(local(15, 14, 1) + timedelta(seconds=20 * n), clerk, "document-downloaded",
                             **{"event.dataset": "eoffice.audit", "egov.document.id": f"VB-2026-{n:04d}"})
        event.pop("egov.unit.id")
    office.store(sqlite_store)
    found = by_rule(replay(sqlite_store))
    assert [a.entities["user.name"] for a in found["volume"]] == [clerk.account]
    assert found["volume"][0].details["findings"][0]["feature"] == "downloads"
