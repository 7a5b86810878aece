"""Changes that touch more than one incident (merge, split), incidents opened by hand, and suppressions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import (
    Incident,
    IncidentCategory,
    IncidentState,
    Resolution,
    Severity,
    StateChange,
    Suppression,
)
from canhgac.incidents.grouping import add_rule_hits, merged_rule_hits
from canhgac.incidents.lifecycle import short_id
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.service import KEPT_ALERT_IDS, IncidentService, audit_diff


def visible_systems(service: IncidentService, scope: frozenset[str] | None) -> frozenset[str]:
    """Systems a caller may attach to an incident: those of its scope (others look unknown)."""
    return frozenset(s.id for s in service.directory.systems.values() if scope is None or s.agency in scope)


def create_manual(service: IncidentService, *, actor: str, agency: str, title: str, severity: Severity,
                  system: str | None, description: str, detected_at: datetime | None,
                  categories: Sequence[IncidentCategory], scope: frozenset[str] | None) -> Incident:
    now = service.clock()
    if detected_at is not None and detected_at > now:
        raise InvalidChange("body.detected_at", "detection cannot be in the future")
    if system is not None and system not in visible_systems(service, scope):
        raise InvalidChange("body.system", f"unknown system {system!r}")
    detected = detected_at or now
    key = f"manual|{agency}|{short_id('m')}"
    return service.new_incident(actor=actor, agency=agency, title=title, severity=severity, system=system,
                                description=description, detected_at=detected, categories=sorted(set(categories)),
                                fingerprint=key, rule_id="manual", first_seen=detected, last_seen=detected)


def merge(service: IncidentService, target_id: str, source_ids: Sequence[str], *, scope: frozenset[str] | None,
          expected_version: str, actor: str) -> Incident:
    """Fold the sources into the target; each source is closed as a duplicate that points at the target.

    Only incidents of the target's own agency merge: the merged incident shows every source's alerts, addresses
    and numbers to whoever sees the target, and an agency below or beside it must not see another's."""
    if target_id in source_ids:
        raise InvalidChange("body.source_ids", "an incident cannot be merged into itself")
    target = service.get(target_id, scope=scope)
    sources = []
    for source_id in dict.fromkeys(source_ids):
        field = f"body.source_ids[{list(source_ids).index(source_id)}]"
        source = service.store.get_incident(source_id, agencies=scope)
        if source is None:
            raise NotFound("no such incident")
        if source.merged_into is not None:
            raise InvalidChange(field, f"{source_id} was already merged into {source.merged_into}")
        if source.agency != target.agency:
            raise InvalidChange(field, f"chỉ gộp được các sự cố của cùng một cơ quan, đơn vị: {source_id} thuộc "
                                       f"{source.agency}, {target_id} thuộc {target.agency} — only incidents of the "
                                       f"same agency can be merged")
        sources.append(source)

    def fold(target: Incident) -> Incident:
        everything = [target, *sources]
        observables = list(target.observables)
        for source in sources:
            observables += [o for o in source.observables
                            if not any(o.type is k.type and o.value == k.value for k in observables)]
        return target.model_copy(update={
            "alert_ids": [a for i in everything for a in i.alert_ids][-KEPT_ALERT_IDS:],
            "alert_count": sum(i.alert_count for i in everything),
            "rules": merged_rule_hits(i.rules for i in everything),
            "first_seen": min(i.first_seen for i in everything),
            "last_seen": max(i.last_seen for i in everything),
            "severity": max((i.severity for i in everything), key=lambda s: s.rank),
            "detected_at": min(i.detected for i in everything),
            "tags": sorted({t for i in everything for t in i.tags}),
            "attack_tactics": sorted({t for i in everything for t in i.attack_tactics}),
            "attack_techniques": sorted({t for i in everything for t in i.attack_techniques}),
            "observables": observables,
            "merged_from": [*target.merged_from, *(s.id for s in sources)],
        })

    merged = service.apply(target_id, scope=scope, expected_version=expected_version, actor=actor, action="merge",
                           mutate=fold)
    for source in sources:
        service.apply(source.id, scope=scope, expected_version="*", actor=actor, action="merged_into",
                      mutate=lambda s: _close_as_duplicate(s, merged.id, actor, service.clock()))
    return merged


def _close_as_duplicate(source: Incident, target_id: str, actor: str, now: datetime) -> Incident:
    history = list(source.history)
    if source.state is not IncidentState.closed:
        history.append(StateChange(at=now, actor=actor, from_state=source.state, to_state=IncidentState.closed,
                                   resolution=Resolution.duplicate, reason=f"merged into {target_id}"))
    return source.model_copy(update={"state": IncidentState.closed, "resolution": Resolution.duplicate,
                                     "merged_into": target_id, "history": history})


def split(service: IncidentService, source_id: str, alert_ids: Sequence[str], *, scope: frozenset[str] | None,
          expected_version: str, actor: str, title: str | None) -> tuple[Incident, Incident]:
    """Move some alerts of an incident to a new incident of the same agency; returns (source, new)."""
    source = service.get(source_id, scope=scope)
    if expected_version not in ("*", source.version):  # checked before the new incident exists
        raise VersionConflict(source_id, expected_version, source.version)
    moving = list(dict.fromkeys(alert_ids))
    unknown = [a for a in moving if a not in source.alert_ids]
    if unknown:
        raise InvalidChange("body.alert_ids", f"{unknown[0]!r} is not an alert of {source_id}")
    if len(moving) >= len(source.alert_ids):
        raise InvalidChange("body.alert_ids", "at least one alert must stay in the incident")
    alerts = service.store.get_alerts(moving, agencies=scope)
    moved_count = sum(a.count for a in alerts) or len(moving)
    first = alerts[0] if alerts else None
    split_off = service.new_incident(
        actor=actor, agency=source.agency, system=(first.system if first else None) or source.system,
        title=title or f"{source.title} (tách từ {source.id})", severity=max(
            (a.severity for a in alerts), key=lambda s: s.rank) if alerts else source.severity,
        fingerprint=f"split|{source.id}|{short_id('s')}", rule_id=first.rule_id if first else source.rule_id,
        rules=add_rule_hits([], alerts)[0],
        tags=sorted({t for a in alerts for t in a.tags}) or list(source.tags),
        entities=dict(first.entities) if first else dict(source.entities), alert_ids=moving,
        alert_count=moved_count, detected_at=source.detected,
        first_seen=min((a.first_seen for a in alerts), default=source.first_seen),
        last_seen=max((a.last_seen for a in alerts), default=source.last_seen),
        attack_tactics=list(source.attack_tactics), attack_techniques=list(source.attack_techniques),
        categories=list(source.categories))

    def shrink(current: Incident) -> Incident:
        return current.model_copy(update={
            "alert_ids": [a for a in current.alert_ids if a not in moving],
            "alert_count": max(current.alert_count - moved_count, len(current.alert_ids) - len(moving))})

    kept = service.apply(source_id, scope=scope, expected_version=expected_version, actor=actor, action="split",
                         mutate=shrink)
    return kept, split_off


def create_suppression(service: IncidentService, *, actor: str, rule_id: str | None, agency: str | None,
                       entities: dict[str, str], reason: str, expires: datetime) -> Suppression:
    now = service.clock()
    if expires <= now:
        raise InvalidChange("body.expires", "the expiry must be in the future")
    if agency is not None and agency not in service.directory.agencies:
        raise InvalidChange("body.agency", f"unknown agency {agency!r}")
    suppression = Suppression(id=f"SUP-{now.strftime('%Y%m%d%H%M%S')}-{short_id('x')[2:]}", rule_id=rule_id,
                              agency=agency, entities=entities, reason=reason, author=actor, created=now,
                              expires=expires)
    service.store.put_suppression(suppression)
    service.audit_object("suppression", suppression.id, agency, "create", actor, None, suppression.to_doc())
    return suppression


def revoke_suppression(service: IncidentService, suppression_id: str, *, scope: frozenset[str] | None,
                       actor: str) -> Suppression:
    current = service.store.get_suppression(suppression_id, agencies=scope)
    if current is None:
        raise NotFound("no such suppression")
    if current.revoked_at is not None:
        return current
    revoked = current.model_copy(update={"revoked_at": service.clock(), "revoked_by": actor})
    service.store.put_suppression(revoked)
    before, after = audit_diff(current.to_doc(), revoked.to_doc())
    service.audit_object("suppression", current.id, current.agency, "revoke", actor, before, after)
    return revoked

