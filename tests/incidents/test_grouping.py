"""Alerts become incidents: one open incident per rule + agency + source address, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from canhgac.config import Settings
from canhgac.directory import Directory
from canhgac.model import Alert, IncidentState, Severity
from incidents.service import IncidentService
from storage.base import IncidentQuery, Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def alert(n: int, *, ip: str = "203.0.113.9", agency: str = "binhdinh", rule: str = "r-sqli",
          severity: Severity = Severity.high) -> Alert:
    seen = T0 + timedelta(minutes=n)
    return Alert(id=f"a{n}-{ip}-{agency}-{rule}", rule_id=rule, rule_title="SQL injection", severity=severity,
                 agency=agency, system="dvc-binhdinh", entities={"source.ip": ip}, first_seen=seen,
                 last_seen=seen, event_ids=[f"e{n}"], tags=["attack.t1190"])


def service(store: Store, settings: Settings) -> IncidentService:
    return IncidentService(store, Directory(settings), clock=lambda: T0 + timedelta(hours=1))


def test_alerts_with_one_fingerprint_share_one_incident(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    [first] = incidents.ingest_alerts([alert(1), alert(2)])
    assert first.created and first.incident.id == "BDH-2026-000001"
    assert first.incident.alert_count == 2 and first.incident.first_seen == T0 + timedelta(minutes=1)
    [later] = incidents.ingest_alerts([alert(5, severity=Severity.critical)])
    assert not later.created and later.severity_raised
    assert later.incident.id == "BDH-2026-000001" and later.incident.alert_count == 3
    assert later.incident.severity is Severity.critical
    assert later.incident.last_seen == T0 + timedelta(minutes=5)
    assert later.incident.title == "SQL injection — 203.0.113.9"
    trail = store.list_audit(object_type="incident", object_id="BDH-2026-000001")
    assert [e.action for e in trail] == ["create", "raise_severity"]


def test_other_source_agency_or_rule_opens_another_incident(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    changes = incidents.ingest_alerts([alert(1), alert(2, ip="198.51.100.1"), alert(3, agency="quynhon"),
                                       alert(4, rule="r-traversal")])
    assert sorted(c.incident.id for c in changes) == ["BDH-2026-000001", "BDH-2026-000002", "BDH-2026-000003",
                                                      "QNN-2026-000001"]
    assert all(c.created for c in changes)


def test_a_closed_incident_is_not_reused(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    [change] = incidents.ingest_alerts([alert(1)])
    current = store.get_incident(change.incident.id)
    assert current is not None
    store.update_incident(current.model_copy(update={"state": IncidentState.closed}),
                          expected_version=current.version or "")
    [again] = incidents.ingest_alerts([alert(2)])
    assert again.created and again.incident.id == "BDH-2026-000002"
    store.refresh()
    assert len(store.search_incidents(IncidentQuery(fingerprint=alert(1).fingerprint))) == 2
