"""Grouping alerts into incidents: one open incident per fingerprint (rule + agency + source address)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from canhgac.directory import Directory
from canhgac.errors import VersionConflict
from canhgac.model import OPEN_STATES, Alert, AuditEntry, Incident, Severity, stable_id, utcnow
from canhgac.timeutil import VIETNAM
from storage.base import IncidentQuery, Store

SYSTEM_ACTOR = "canhgac"
#: How many alert ids an incident lists; ``alert_count`` keeps the full count.
KEPT_ALERT_IDS = 200
MAX_RETRIES = 5


@dataclass
class IncidentChange:
    """What happened to one incident in one batch: the notifiers' input."""

    incident: Incident
    created: bool
    new_alerts: list[Alert] = field(default_factory=list)
    severity_raised: bool = False


def incident_number(store: Store, directory: Directory, agency_id: str, at: datetime) -> str:
    """Readable, per-agency, per-year numbers: ``BDH-2026-000123``."""
    code = directory.agency(agency_id).code
    year = at.astimezone(VIETNAM).year
    return f"{code}-{year}-{store.next_sequence(f'incident:{code}:{year}'):06d}"


class IncidentService:
    def __init__(self, store: Store, directory: Directory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock

    def ingest_alerts(self, alerts: Sequence[Alert]) -> list[IncidentChange]:
        groups: dict[str, list[Alert]] = {}
        for alert in alerts:
            groups.setdefault(alert.fingerprint, []).append(alert)
        return [self._attach(fingerprint, group) for fingerprint, group in groups.items()]

    def _attach(self, fingerprint: str, alerts: list[Alert]) -> IncidentChange:
        for _ in range(MAX_RETRIES):
            found = self.store.search_incidents(IncidentQuery(fingerprint=fingerprint,
                                                              states=frozenset(OPEN_STATES), limit=1))
            try:
                if not found:
                    return self._open(alerts)
                return self._grow(found[0], alerts)
            except VersionConflict:
                continue  # someone changed it meanwhile: read again and re-apply
        raise VersionConflict(fingerprint, "any", "kept changing")

    def _open(self, alerts: list[Alert]) -> IncidentChange:
        first = alerts[0]
        now = self.clock()
        incident = Incident(
            id=incident_number(self.store, self.directory, first.agency, now),
            agency=first.agency,
            system=first.system,
            title=_title(first),
            severity=max((a.severity for a in alerts), key=lambda s: s.rank),
            fingerprint=first.fingerprint,
            rule_id=first.rule_id,
            tags=sorted({t for a in alerts for t in a.tags}),
            entities=dict(first.entities),
            alert_ids=[a.id for a in alerts][-KEPT_ALERT_IDS:],
            alert_count=sum(a.count for a in alerts),
            first_seen=min(a.first_seen for a in alerts),
            last_seen=max(a.last_seen for a in alerts),
            created=now,
            updated=now,
        )
        stored = self.store.create_incident(incident)
        self._audit(stored, "create", None, _summary(stored))
        return IncidentChange(stored, created=True, new_alerts=alerts)

    def _grow(self, incident: Incident, alerts: list[Alert]) -> IncidentChange:
        severity = max([incident.severity, *(a.severity for a in alerts)], key=lambda s: s.rank)
        updated = incident.model_copy(update={
            "severity": severity,
            "alert_ids": [*incident.alert_ids, *(a.id for a in alerts)][-KEPT_ALERT_IDS:],
            "alert_count": incident.alert_count + sum(a.count for a in alerts),
            "first_seen": min(incident.first_seen, *(a.first_seen for a in alerts)),
            "last_seen": max(incident.last_seen, *(a.last_seen for a in alerts)),
            "tags": sorted({*incident.tags, *(t for a in alerts for t in a.tags)}),
            "system": incident.system or alerts[0].system,
            "updated": self.clock(),
        })
        stored = self.store.update_incident(updated, expected_version=incident.version or "")
        raised = severity.rank > incident.severity.rank
        if raised:
            self._audit(stored, "raise_severity", {"severity": incident.severity.value},
                        {"severity": severity.value})
        return IncidentChange(stored, created=False, new_alerts=alerts, severity_raised=raised)

    def _audit(self, incident: Incident, action: str, before: dict | None, after: dict | None) -> None:
        at = self.clock()
        entry_id = stable_id("audit", incident.id, action, at.isoformat(), incident.version or "")
        self.store.append_audit(AuditEntry(id=entry_id, at=at, actor=SYSTEM_ACTOR, action=action,
                                           object_type="incident", object_id=incident.id,
                                           agency=incident.agency, before=before, after=after))


def _title(alert: Alert) -> str:
    source = alert.entities.get("source.ip") or alert.entities.get("user.name")
    return f"{alert.rule_title} — {source}" if source else alert.rule_title


def _summary(incident: Incident) -> dict:
    return {"state": incident.state.value, "severity": incident.severity.value, "title": incident.title,
            "alert_count": incident.alert_count}


def severity_at_least(severity: Severity, floor: Severity) -> bool:
    return severity.rank >= floor.rank
