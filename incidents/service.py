"""Alerts → incidents, and every later change to an incident, each with its audit entry.

Grouping (``grouping.py`` decides the key): alerts of one agency with the same principal entity join the open
incident of that key last seen within the grouping window, whatever the rule; rules that stand alone keep the
configured fingerprint. After close, a new alert within the cool-off reopens the incident, later it opens a
new one. Suppressed alerts are kept in the store but open nothing. The incident lists every rule that joined
(``Incident.rules``), is named after the most severe one, and each rule joining is audited (``join_rule``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from canhgac.core.directory import Directory
from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import (
    OPEN_STATES,
    Alert,
    AuditEntry,
    Incident,
    IncidentCategory,
    IncidentState,
    Observable,
    ObservableType,
    RuleHit,
    StateChange,
    stable_id,
    utcnow,
)
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.grouping import (
    Placement,
    add_rule_hits,
    attack_from_tags,
    leading_rule,
    placements,
    principal_of,
    suppressed_by,
)
from canhgac.incidents.models import CLOSED_STATES, SYSTEM_ACTOR, IncidentChange, closed_at
from canhgac.storage.base import IncidentQuery, Store

__all__ = ["SYSTEM_ACTOR", "IncidentChange", "IncidentService", "incident_number"]
#: How many alert ids an incident lists; ``alert_count`` keeps the full count.
KEPT_ALERT_IDS = 200
MAX_RETRIES = 5
ENTITY_OBSERVABLES = {"source.ip": ObservableType.ip, "client.ip": ObservableType.ip, "user.name": ObservableType.user,
                      "url.domain": ObservableType.domain}


def incident_number(store: Store, directory: Directory, agency_id: str, at: datetime) -> str:
    """Readable, per-agency, per-year numbers: ``BDH-2026-000123``."""
    code = directory.agency(agency_id).code
    year = at.astimezone(VIETNAM).year
    return f"{code}-{year}-{store.next_sequence(f'incident:{code}:{year}'):06d}"


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only what changed; for lists, the items that left and the items that came."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key in sorted((set(before) | set(after)) - {"updated", "version"}):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, dict) for x in a + b):
            old[key] = [x for x in a if x not in b]
            new[key] = [x for x in b if x not in a]
        else:
            old[key], new[key] = a, b
    return old, new


class IncidentService:
    def __init__(self, store: Store, directory: Directory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.directory = directory
        self.settings = directory.settings
        self.clock = clock
        #: Told of every change made through ``apply`` (before, after, actor) once it is stored: chat threads.
        self.observers: list[Callable[[Incident, Incident, str], None]] = []

    # reading ----------------------------------------------------------------------------------
    def get(self, incident_id: str, *, scope: frozenset[str] | None) -> Incident:
        incident = self.store.get_incident(incident_id, agencies=scope)
        if incident is None:  # missing and out-of-scope look the same
            raise NotFound("no such incident")
        return incident

    # changes by people ------------------------------------------------------------------------
    def apply(self, incident_id: str, *, scope: frozenset[str] | None, expected_version: str, actor: str,
              action: str, mutate: Callable[[Incident], Incident]) -> Incident:
        """Change one incident if it is still at ``expected_version`` (``*``: whatever it is now)."""
        current = self.get(incident_id, scope=scope)
        if expected_version not in ("*", current.version):
            raise VersionConflict(incident_id, expected_version, current.version)
        changed = mutate(current).model_copy(update={"updated": self.clock()})
        stored = self.store.update_incident(changed, expected_version=current.version or "")
        self.audit(stored, action, actor, *audit_diff(current.to_doc(), stored.to_doc()))
        for observe in self.observers:
            observe(current, stored, actor)
        return stored

    def audit(self, incident: Incident, action: str, actor: str, before: dict[str, Any] | None,
              after: dict[str, Any] | None) -> None:
        self.audit_object("incident", incident.id, incident.agency, action, actor, before, after,
                          salt=incident.version or "")

    def audit_object(self, object_type: str, object_id: str, agency: str | None, action: str, actor: str,
                     before: dict[str, Any] | None, after: dict[str, Any] | None, *, salt: str = "") -> None:
        at = self.clock()
        entry_id = stable_id("audit", object_type, object_id, action, at.isoformat(), salt)
        self.store.append_audit(AuditEntry(id=entry_id, at=at, actor=actor, action=action, object_type=object_type,
                                           object_id=object_id, agency=agency, before=before, after=after))

    def new_incident(self, *, actor: str = SYSTEM_ACTOR, audit_extra: dict[str, Any] | None = None,
                     **fields: Any) -> Incident:
        """A new incident with the next readable number of its agency, stored and audited."""
        now = self.clock()
        incident = Incident(id=incident_number(self.store, self.directory, fields["agency"], now), created=now,
                            updated=now, **fields)
        stored = self.store.create_incident(incident)
        self.audit(stored, "create", actor, None, {**_summary(stored), **(audit_extra or {})})
        return stored

    # alerts -----------------------------------------------------------------------------------
    def ingest_alerts(self, alerts: Sequence[Alert]) -> list[IncidentChange]:
        now = self.clock()
        suppressions = [s for s in self.store.list_suppressions() if s.active(now)] if alerts else []
        kept = [a for a in alerts if not (suppressions and suppressed_by(a, suppressions, self.directory))]
        groups: dict[str, list[tuple[Alert, Placement]]] = {}
        for alert, placement in zip(kept, placements(kept, self.settings.incidents.grouping), strict=True):
            groups.setdefault(placement.key, []).append((alert, placement))
        return self._attach_all(groups)

    def _attach_all(self, groups: dict[str, list[tuple[Alert, Placement]]]) -> list[IncidentChange]:
        """Every group in one unit of work (on Elasticsearch: one bulk of incident writes and one of audit
        entries); groups whose incident write lost a race are attached again from a fresh read."""
        changes: dict[str, IncidentChange] = {}
        todo = list(groups)
        for _ in range(MAX_RETRIES):
            with self.store.unit_of_work() as work:
                attempt = {key: self._attach(key, groups[key]) for key in todo}
            for key, change in attempt.items():
                changes[key] = replace(change, incident=work.final(change.incident))
            todo = [key for key, change in attempt.items() if change.incident.id in work.conflicts]
            if not todo:  # a group whose alerts the incident already lists changed nothing
                return [change for key in groups if (change := changes[key]).created or change.new_alerts]
        raise VersionConflict(todo[0], "any", "kept changing")

    def _attach(self, key: str, placed: list[tuple[Alert, Placement]]) -> IncidentChange:
        grouping = self.settings.incidents.grouping
        alerts = [alert for alert, _ in placed]
        for _ in range(MAX_RETRIES):
            try:
                found = self.store.search_incidents(IncidentQuery(fingerprint=key, states=frozenset(OPEN_STATES),
                                                                  limit=1))
                earliest = min(a.first_seen for a in alerts)
                if found and earliest - found[0].last_seen <= timedelta(minutes=grouping.window_minutes):
                    return self._grow(found[0], placed)
                closed = self.store.search_incidents(IncidentQuery(fingerprint=key, states=CLOSED_STATES, limit=5))
                recent = next((i for i in closed if i.merged_into is None), None)
                when = closed_at(recent) if recent is not None else None
                if recent is not None and when is not None and \
                        self.clock() - when <= timedelta(hours=grouping.reopen_cooloff_hours):
                    return self._grow(recent, placed, reopen=True)
                return self._open(key, placed)
            except VersionConflict:
                continue  # someone changed it meanwhile: read again and re-apply
        raise VersionConflict(key, "any", "kept changing")

    def _open(self, key: str, placed: list[tuple[Alert, Placement]]) -> IncidentChange:
        alerts = [alert for alert, _ in placed]
        first = alerts[0]
        tags = sorted({t for a in alerts for t in a.tags})
        tactics, techniques = attack_from_tags(tags)
        detected = min(self.clock(), *(a.created for a in alerts))
        hits, joined = add_rule_hits([], alerts)
        label = _label(key, first.entities)
        title, title_en = _titles(leading_rule(hits), label)
        decision = {"fingerprint": key, "rules": joined, **_decision(placed)}
        stored = self.new_incident(
            agency=first.agency, system=first.system, title=title, title_en=title_en,
            severity=max((a.severity for a in alerts), key=lambda s: s.rank), fingerprint=key,
            rule_id=first.rule_id, rules=hits, tags=tags, entities=dict(first.entities),
            alert_ids=[a.id for a in alerts][-KEPT_ALERT_IDS:], alert_count=sum(a.count for a in alerts),
            first_seen=min(a.first_seen for a in alerts), last_seen=max(a.last_seen for a in alerts),
            detected_at=detected, attack_tactics=tactics, attack_techniques=techniques,
            observables=_observables(first.entities), categories=alert_categories(alerts),
            audit_extra={"grouping": decision})
        return IncidentChange(stored, created=True, new_alerts=alerts, rules_joined=joined)

    def _grow(self, incident: Incident, placed: list[tuple[Alert, Placement]], *,
              reopen: bool = False) -> IncidentChange:
        listed = set(incident.alert_ids)  # an alert is in an incident once, however often its grouping is retried
        placed = [(alert, placement) for alert, placement in placed if alert.id not in listed]
        if not placed:
            return IncidentChange(incident, created=False)
        alerts = [alert for alert, _ in placed]
        severity = max([incident.severity, *(a.severity for a in alerts)], key=lambda s: s.rank)
        tags = sorted({*incident.tags, *(t for a in alerts for t in a.tags)})
        tactics, techniques = attack_from_tags(tags)
        hits, joined = add_rule_hits(incident.rules, alerts)
        update: dict[str, Any] = {
            "severity": severity,
            "rules": hits,
            "alert_ids": [*incident.alert_ids, *(a.id for a in alerts)][-KEPT_ALERT_IDS:],
            "alert_count": incident.alert_count + sum(a.count for a in alerts),
            "first_seen": min(incident.first_seen, *(a.first_seen for a in alerts)),
            "last_seen": max(incident.last_seen, *(a.last_seen for a in alerts)),
            "tags": tags,
            "attack_tactics": sorted({*incident.attack_tactics, *tactics}),
            "attack_techniques": sorted({*incident.attack_techniques, *techniques}),
            "system": incident.system or alerts[0].system,
            "categories": sorted({*incident.categories, *alert_categories(alerts)}),
            "updated": self.clock(),
        }
        update |= self._retitle(incident, hits)
        if reopen:
            change = StateChange(at=self.clock(), actor=SYSTEM_ACTOR, from_state=incident.state,
                                 to_state=IncidentState.new, reason="new alerts within the reopen cool-off")
            update |= {"state": IncidentState.new, "resolution": None, "reopen_count": incident.reopen_count + 1,
                       "history": [*incident.history, change]}
        stored = self.store.update_incident(incident.model_copy(update=update), expected_version=incident.version or "")
        raised = severity.rank > incident.severity.rank
        if reopen:
            self.audit(stored, "reopen", SYSTEM_ACTOR, {"state": incident.state.value},
                       {"state": stored.state.value, "alert_count": stored.alert_count})
        for rule_id in joined:
            self._audit_join(incident, stored, rule_id, placed)
        if raised:
            self.audit(stored, "raise_severity", SYSTEM_ACTOR, {"severity": incident.severity.value},
                       {"severity": severity.value})
        return IncidentChange(stored, created=False, new_alerts=alerts, severity_raised=raised, reopened=reopen,
                              rules_joined=joined)

    def _retitle(self, incident: Incident, hits: list[RuleHit]) -> dict[str, Any]:
        """The title follows the most severe rule, unless a person changed it (it is no longer the one the
        grouping gave: a title of an incident from before ``rules`` existed counts as given by hand)."""
        label = _label(incident.fingerprint, incident.entities)
        before, after = leading_rule(incident.rules), leading_rule(hits)
        if before is None or after is None or after.rule_id == before.rule_id:
            return {}
        if (incident.title, incident.title_en) != _titles(before, label):
            return {}
        title, title_en = _titles(after, label)
        return {"title": title, "title_en": title_en}

    def _audit_join(self, before: Incident, after: Incident, rule_id: str,
                    placed: list[tuple[Alert, Placement]]) -> None:
        hit = next(h for h in after.rules if h.rule_id == rule_id)
        joining = [(a, p) for a, p in placed if a.rule_id == rule_id]
        entry: dict[str, Any] = {"rule_id": rule_id, "title": hit.title, "title_vi": hit.title_vi,
                                 "severity": hit.severity.value, "alerts": hit.alerts, "count": hit.count,
                                 **_decision(joining)}
        old: dict[str, Any] = {"rules": [h.rule_id for h in before.rules]}
        if after.title != before.title:
            old["title"], entry["incident_title"] = before.title, after.title
        self.audit_object("incident", after.id, after.agency, "join_rule", SYSTEM_ACTOR, old, entry,
                          salt=f"{after.version or ''}|{rule_id}")


def _label(key: str, entities: dict[str, str]) -> str | None:
    principal = principal_of(key)
    if principal is not None:
        return principal[1]
    if key.startswith("system|"):  # a rule and a system, no attacker: another alert may name another address
        return None
    return entities.get("source.ip") or entities.get("user.name")


def _titles(hit: RuleHit | None, label: str | None) -> tuple[str, str]:
    """(Vietnamese, English) titles the grouping gives an incident named after ``hit``."""
    if hit is None:
        return "", ""
    return _title(label, hit.title_vi or hit.title), _title(label, hit.title)


def _title(label: str | None, rule_title: str) -> str:
    return f"{rule_title} — {label}" if label else rule_title


def _decision(placed: Sequence[tuple[Alert, Placement]]) -> dict[str, Any]:
    """Why these alerts went where they did, for the audit trail (alert ids capped)."""
    reasons = sorted({placement.reason() for _, placement in placed})
    return {"mode": placed[0][1].mode, "reason": "; ".join(reasons), "alert_ids": [a.id for a, _ in placed][:20],
            "alert_total": len(placed)}


def alert_categories(alerts: Sequence[Alert]) -> list[IncidentCategory]:
    """Categories a detector already knows its alerts belong to (``details.incident_categories``: a data-leak
    alert on citizens' dossiers is a personal-data incident, with the 72-hour breach-notice clock)."""
    known = {c.value for c in IncidentCategory}
    return sorted({IncidentCategory(name) for alert in alerts for name in alert.details.get("incident_categories", [])
                   if name in known})


def _observables(entities: dict[str, str]) -> list[Observable]:
    return [Observable(id=f"o-{index + 1}", type=ENTITY_OBSERVABLES[name], value=value, note=name)
            for index, (name, value) in enumerate(sorted(entities.items())) if name in ENTITY_OBSERVABLES]


def _summary(incident: Incident) -> dict[str, Any]:
    return {"state": incident.state.value, "severity": incident.severity.value, "title": incident.title,
            "alert_count": incident.alert_count, "agency": incident.agency}
