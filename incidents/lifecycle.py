"""The lifecycle rules as pure functions: each takes an incident and returns the changed copy, or raises
``InvalidChange`` naming the input at fault. Storing, versions and the audit trail are the service's job."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from canhgac.core.model import (
    BreachDetails,
    Comment,
    Filing,
    FilingKind,
    Incident,
    IncidentState,
    Observable,
    ObservableType,
    Resolution,
    SeriousOverride,
    StateChange,
    Task,
    TaskState,
)
from canhgac.incidents.models import CLOSED_STATES, InvalidChange

S = IncidentState
#: Where each state may go by a plain transition; leaving resolved or closed is a reopen.
NEXT_STATES: dict[IncidentState, frozenset[IncidentState]] = {
    S.new: frozenset({S.acknowledged, S.investigating, S.contained, S.resolved, S.closed}),
    S.acknowledged: frozenset({S.investigating, S.contained, S.resolved, S.closed}),
    S.investigating: frozenset({S.contained, S.resolved, S.closed}),
    S.contained: frozenset({S.investigating, S.resolved, S.closed}),
    S.resolved: frozenset({S.closed}),
    S.closed: frozenset(),
}
#: How long before now an agency's own staff may date a filing (sent, then recorded a little later); earlier
#: dates would let an agency turn a missed deadline into a met one, so they are the SOC's to record.
AGENCY_BACKDATE_TOLERANCE = timedelta(minutes=15)
TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
TACTIC = re.compile(r"^[a-z]+(-[a-z]+)*$")


def short_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def transition(incident: Incident, to_state: IncidentState, *, actor: str, now: datetime,
               resolution: Resolution | None = None, reason: str | None = None) -> Incident:
    if to_state is incident.state:
        raise InvalidChange("body.state", f"the incident is already {to_state.value}")
    if to_state not in NEXT_STATES[incident.state]:
        hint = " (reopen it instead)" if incident.state in CLOSED_STATES else ""
        raise InvalidChange("body.state", f"cannot go from {incident.state.value} to {to_state.value}{hint}")
    if to_state not in CLOSED_STATES and resolution is not None:
        raise InvalidChange("body.resolution", "a resolution is given only when resolving or closing")
    chosen = resolution or incident.resolution
    if to_state in CLOSED_STATES and chosen is None:
        raise InvalidChange("body.resolution", f"a resolution is required to move to {to_state.value}")
    change = StateChange(at=now, actor=actor, from_state=incident.state, to_state=to_state,
                         resolution=chosen if to_state in CLOSED_STATES else None, reason=reason)
    return incident.model_copy(update={"state": to_state, "resolution": chosen if to_state in CLOSED_STATES
                                       else incident.resolution, "history": [*incident.history, change]})


def reopen(incident: Incident, *, actor: str, now: datetime, reason: str,
           to_state: IncidentState = IncidentState.investigating) -> Incident:
    if incident.state not in CLOSED_STATES:
        raise InvalidChange("body.reason", f"only a resolved or closed incident can be reopened, "
                                           f"this one is {incident.state.value}")
    if incident.merged_into is not None:
        raise InvalidChange("body.reason", f"the incident was merged into {incident.merged_into}")
    change = StateChange(at=now, actor=actor, from_state=incident.state, to_state=to_state, reason=reason)
    return incident.model_copy(update={"state": to_state, "resolution": None, "reopen_count": incident.reopen_count + 1,
                                       "history": [*incident.history, change]})


def apply_fields(incident: Incident, changes: Mapping[str, Any], *, now: datetime,
                 known_systems: frozenset[str]) -> Incident:
    """PATCH: only the given fields change. Values were type-checked by the caller's schema."""
    update: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "detected_at" and value is not None and value > now:
            raise InvalidChange("body.detected_at", "detection cannot be in the future")
        if name == "detected_at" and value is None:
            raise InvalidChange("body.detected_at", "detection time cannot be removed")
        if name == "system" and value is not None and value not in known_systems:
            raise InvalidChange("body.system", f"unknown system {value!r}")
        if name == "attack_techniques":
            bad = [t for t in value if not TECHNIQUE.match(t)]
            if bad:
                raise InvalidChange("body.attack_techniques", f"not an ATT&CK technique id: {bad[0]!r}")
            value = sorted(set(value))
        if name == "attack_tactics":
            bad = [t for t in value if not TACTIC.match(t)]
            if bad:
                raise InvalidChange("body.attack_tactics", f"not an ATT&CK tactic name: {bad[0]!r}")
            value = sorted(set(value))
        if name == "categories":
            value = sorted(set(value), key=lambda c: c.value)
        if name == "breach" and value is not None and not isinstance(value, BreachDetails):
            value = BreachDetails.model_validate(value)
        update[name] = value
    return incident.model_copy(update=update)


def add_comment(incident: Incident, text: str, *, actor: str, now: datetime, to_chat: bool = False) -> Incident:
    comment = Comment(id=short_id("c"), at=now, author=actor, text=text, to_chat=to_chat)
    return incident.model_copy(update={"comments": [*incident.comments, comment]})


def add_task(incident: Incident, title: str, assignee: str | None, *, now: datetime) -> Incident:
    task = Task(id=short_id("t"), title=title, assignee=assignee, created=now, updated=now)
    return incident.model_copy(update={"tasks": [*incident.tasks, task]})


def change_task(incident: Incident, task_id: str, changes: Mapping[str, Any], *, now: datetime) -> Incident:
    if not any(t.id == task_id for t in incident.tasks):
        raise InvalidChange("path.task_id", f"the incident has no task {task_id!r}")
    if "state" in changes and changes["state"] is None:
        raise InvalidChange("body.state", "a task always has a state")
    if "title" in changes and not changes["title"]:
        raise InvalidChange("body.title", "a task needs a title")
    tasks = [t.model_copy(update={**changes, "updated": now, "state": TaskState(changes.get("state", t.state))})
             if t.id == task_id else t for t in incident.tasks]
    return incident.model_copy(update={"tasks": tasks})


def add_observable(incident: Incident, kind: ObservableType, value: str, note: str) -> Incident:
    if any(o.type is kind and o.value == value for o in incident.observables):
        raise InvalidChange("body.value", f"the incident already has the {kind.value} observable {value!r}")
    observable = Observable(id=short_id("o"), type=kind, value=value, note=note)
    return incident.model_copy(update={"observables": [*incident.observables, observable]})


def remove_observable(incident: Incident, observable_id: str) -> Incident:
    kept = [o for o in incident.observables if o.id != observable_id]
    if len(kept) == len(incident.observables):
        raise InvalidChange("path.observable_id", f"the incident has no observable {observable_id!r}")
    return incident.model_copy(update={"observables": kept})


def override_serious(incident: Incident, serious: bool | None, reason: str, *, actor: str,
                     now: datetime) -> Incident:
    override = None if serious is None else SeriousOverride(serious=serious, reason=reason, actor=actor, at=now)
    return incident.model_copy(update={"serious_override": override})


def file_notice(incident: Incident, kind: FilingKind, *, due: datetime, filed_at: datetime, actor: str,
                now: datetime, reference: str, late_reason: str | None) -> Incident:
    if filed_at > now:
        raise InvalidChange("body.filed_at", "a filing cannot be in the future")
    if any(f.kind is kind for f in incident.filings):
        raise InvalidChange("body.kind", f"the {kind.value} was already filed")
    late = filed_at >= due  # the deadline instant itself is already overdue
    if late and not (late_reason or "").strip():
        raise InvalidChange("body.late_reason", f"filed after the deadline ({due.isoformat()}): give the reason")
    filing = Filing(kind=kind, filed_at=filed_at, actor=actor, reference=reference, late=late,
                    late_reason=late_reason if late else None)
    return incident.model_copy(update={"filings": [*incident.filings, filing]})
