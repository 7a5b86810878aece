"""Alerts become incidents (the pipeline's entry point, ``ingest_alerts``), on both stores, with a frozen clock:
fingerprint, grouping window, reopen within the cool-off, suppressions. Grouping by principal entity across
rules is in ``test_principal.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from canhgac.core.config import Settings
from canhgac.core.config_incidents import Grouping, IncidentSettings
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, IncidentState, Resolution, Severity, Suppression
from canhgac.incidents import lifecycle
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import IncidentQuery, Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now


def alert(n: int, *, ip: str = "203.0.113.9", agency: str = "binhdinh", rule: str = "r-sqli",
          severity: Severity = Severity.high, minutes: float | None = None, system: str = "dvc-binhdinh") -> Alert:
    seen = T0 + timedelta(minutes=n if minutes is None else minutes)
    return Alert(id=f"a{n}-{ip}-{agency}-{rule}", rule_id=rule, rule_title="SQL injection", severity=severity,
                 agency=agency, system=system, entities={"source.ip": ip}, first_seen=seen, last_seen=seen,
                 event_ids=[f"e{n}"], tags=["attack.initial_access", "attack.t1190"], created=seen)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(hours=1))


def service(store: Store, settings: Settings, clock: Clock, **grouping: object) -> IncidentService:
    if grouping:
        settings = settings.model_copy(update={"incidents": IncidentSettings(grouping=Grouping(**grouping))})
    return IncidentService(store, Directory(settings), clock=clock)


def test_alerts_with_one_fingerprint_share_one_incident(store: Store, settings: Settings, clock: Clock) -> None:
    incidents = service(store, settings, clock)
    [first] = incidents.ingest_alerts([alert(1), alert(2)])
    assert first.created and first.incident.id == "BDH-2026-000001"
    assert first.incident.alert_count == 2 and first.incident.first_seen == T0 + timedelta(minutes=1)
    assert first.incident.detected_at == T0 + timedelta(minutes=1)  # the first alert's detection
    assert first.incident.attack_techniques == ["T1190"] and first.incident.attack_tactics == ["initial-access"]
    assert [(o.type.value, o.value) for o in first.incident.observables] == [("ip", "203.0.113.9")]
    [later] = incidents.ingest_alerts([alert(5, severity=Severity.critical)])
    assert not later.created and later.severity_raised
    assert later.incident.id == "BDH-2026-000001" and later.incident.alert_count == 3
    assert later.incident.severity is Severity.critical
    assert later.incident.last_seen == T0 + timedelta(minutes=5)
    assert later.incident.title == "SQL injection — 203.0.113.9"
    trail = store.list_audit(object_type="incident", object_id="BDH-2026-000001")
    assert [e.action for e in trail] == ["create", "raise_severity"]
    assert all(e.actor == "canhgac" for e in trail)


def test_an_alert_grouped_again_is_not_counted_twice(store: Store, settings: Settings, clock: Clock) -> None:
    """A batch retried after its notices could not be written groups its alerts again: the incident that
    already lists them neither grows nor changes, and only the alerts it lacks join it."""
    incidents = service(store, settings, clock)
    [first] = incidents.ingest_alerts([alert(1), alert(2)])
    assert incidents.ingest_alerts([alert(1), alert(2)]) == []
    [later] = incidents.ingest_alerts([alert(2), alert(3)])
    assert [a.id for a in later.new_alerts] == [alert(3).id]
    assert later.incident.alert_count == 3 and later.incident.alert_ids == [alert(n).id for n in (1, 2, 3)]
    assert store.get_incident(first.incident.id).version == later.incident.version  # type: ignore[union-attr]


def test_incident_title_is_vietnamese_when_the_rule_has_one(store: Store, settings: Settings, clock: Clock) -> None:
    incidents = service(store, settings, clock)
    translated = alert(1).model_copy(update={"rule_title_vi": "Thử tấn công SQL injection"})
    [change] = incidents.ingest_alerts([translated])
    assert change.incident.title == "Thử tấn công SQL injection — 203.0.113.9"
    assert change.incident.title_en == "SQL injection — 203.0.113.9"
    stored = store.get_incident(change.incident.id)
    assert stored is not None and stored.title_en == change.incident.title_en


def test_other_source_or_agency_opens_another_incident_another_rule_does_not(store: Store, settings: Settings,
                                                                            clock: Clock) -> None:
    incidents = service(store, settings, clock)
    changes = incidents.ingest_alerts([alert(1), alert(2, ip="198.51.100.1"), alert(3, agency="quynhon"),
                                       alert(4, rule="r-traversal")])
    assert sorted(c.incident.id for c in changes) == ["BDH-2026-000001", "BDH-2026-000002", "QNN-2026-000001"]
    assert all(c.created for c in changes)
    [same_source] = [c.incident for c in changes if c.incident.entities["source.ip"] == "203.0.113.9"
                     and c.incident.agency == "binhdinh"]
    assert [hit.rule_id for hit in same_source.rules] == ["r-sqli", "r-traversal"]


def test_fingerprint_is_configurable(store: Store, settings: Settings, clock: Clock) -> None:
    incidents = service(store, settings, clock, by_principal=False, fingerprint=["rule", "agency"])
    changes = incidents.ingest_alerts([alert(1), alert(2, ip="198.51.100.1")])
    assert len(changes) == 1 and changes[0].incident.alert_count == 2
    by_system = service(store, settings, clock, by_principal=False, fingerprint=["agency", "system"])
    [change] = by_system.ingest_alerts([alert(3, rule="r-a"), alert(4, rule="r-b")])
    assert change.created and change.incident.alert_count == 2


def test_an_alert_after_the_window_opens_a_new_incident(store: Store, settings: Settings, clock: Clock) -> None:
    incidents = service(store, settings, clock, window_minutes=30)
    [first] = incidents.ingest_alerts([alert(1, minutes=0)])
    [inside] = incidents.ingest_alerts([alert(2, minutes=30)])  # exactly at the window's edge: still inside
    assert inside.incident.id == first.incident.id
    [outside] = incidents.ingest_alerts([alert(3, minutes=60.5)])
    assert outside.created and outside.incident.id == "BDH-2026-000002"


def _close(incidents: IncidentService, incident_id: str) -> None:
    incidents.apply(incident_id, scope=None, expected_version="*", actor="lan", action="close",
                    mutate=lambda i: lifecycle.transition(i, IncidentState.closed, actor="lan", now=incidents.clock(),
                                                          resolution=Resolution.true_positive))


def test_an_alert_within_the_cooloff_reopens_later_it_opens_a_new_one(store: Store, settings: Settings,
                                                                      clock: Clock) -> None:
    incidents = service(store, settings, clock, reopen_cooloff_hours=24)
    [change] = incidents.ingest_alerts([alert(1)])
    _close(incidents, change.incident.id)
    clock.now += timedelta(hours=24)  # exactly the cool-off: reopens
    [again] = incidents.ingest_alerts([alert(2)])
    assert again.reopened and not again.created and again.incident.id == change.incident.id
    assert again.incident.state is IncidentState.new and again.incident.resolution is None
    assert again.incident.reopen_count == 1
    assert [h.to_state for h in again.incident.history] == [IncidentState.closed, IncidentState.new]
    _close(incidents, change.incident.id)
    clock.now += timedelta(hours=24, seconds=1)
    [fresh] = incidents.ingest_alerts([alert(3)])
    assert fresh.created and fresh.incident.id == "BDH-2026-000002"
    store.refresh()
    assert len(store.search_incidents(IncidentQuery(fingerprint=change.incident.fingerprint))) == 2
    actions = [e.action for e in store.list_audit(object_type="incident", object_id=change.incident.id)]
    assert actions == ["create", "close", "reopen", "close"]


def test_suppressions_hide_matching_alerts_until_they_expire(store: Store, settings: Settings, clock: Clock) -> None:
    incidents = service(store, settings, clock)
    store.put_suppression(Suppression(id="SUP-1", rule_id="r-sqli", agency="binhdinh",
                                      entities={"source.ip": "203.0.113.9"}, reason="máy quét được phép",
                                      author="lan", created=T0, expires=T0 + timedelta(hours=2)))
    store.put_suppression(Suppression(id="SUP-2", rule_id="r-traversal", reason="đã thu hồi", author="lan",
                                      created=T0, expires=T0 + timedelta(days=9), revoked_at=T0, revoked_by="minh"))
    # quynhon is below binhdinh, so the suppression covers it; another address or rule is not covered.
    changes = incidents.ingest_alerts([alert(1), alert(2, agency="quynhon"), alert(3, ip="198.51.100.1"),
                                       alert(4, rule="r-traversal")])
    assert sorted(c.incident.fingerprint for c in changes) == ["entity|binhdinh|source.ip|198.51.100.1",
                                                              "entity|binhdinh|source.ip|203.0.113.9"]
    assert [[h.rule_id for h in c.incident.rules] for c in changes if "203.0.113.9" in c.incident.fingerprint] \
        == [["r-traversal"]]
    clock.now = T0 + timedelta(hours=2)  # expired at exactly its expiry
    [after] = incidents.ingest_alerts([alert(5)])
    assert not after.created and after.incident.fingerprint == "entity|binhdinh|source.ip|203.0.113.9"
    assert [(h.rule_id, h.alerts) for h in after.incident.rules] == [("r-traversal", 1), ("r-sqli", 1)]
