"""One change applied to many incidents (acknowledge, assign, close), each through the same lifecycle rules as
the single-incident actions, each audited with the reason given; one failure never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import Incident, IncidentState, Resolution
from canhgac.incidents import lifecycle
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.service import IncidentService, audit_diff

BulkAction = Literal["acknowledge", "assign", "close"]
#: A change read and written again this often when someone else changed the incident in between.
RETRIES = 3


@dataclass(frozen=True)
class BulkResult:
    id: str
    ok: bool
    status: int  # what the single-incident endpoint would have answered
    detail: str | None = None
    version: str | None = None


def _mutation(action: BulkAction, *, actor: str, service: IncidentService, reason: str, assignee: str | None,
              resolution: Resolution | None) -> tuple[str, Callable[[Incident], Incident]]:
    now = service.clock()
    if action == "acknowledge":
        return "transition:acknowledged", lambda i: lifecycle.transition(
            i, IncidentState.acknowledged, actor=actor, now=now, reason=reason)
    if action == "close":
        return "transition:closed", lambda i: lifecycle.transition(
            i, IncidentState.closed, actor=actor, now=now, resolution=resolution, reason=reason)
    return "update", lambda i: lifecycle.apply_fields(i, {"assignee": assignee}, now=now, known_systems=frozenset())


def _apply_one(service: IncidentService, incident_id: str, *, scope: frozenset[str] | None, actor: str,
               action: str, mutate: Callable[[Incident], Incident], reason: str) -> Incident:
    for _ in range(RETRIES):
        current = service.get(incident_id, scope=scope)
        changed = mutate(current).model_copy(update={"updated": service.clock()})
        try:
            stored = service.store.update_incident(changed, expected_version=current.version or "")
        except VersionConflict:
            continue
        before, after = audit_diff(current.to_doc(), stored.to_doc())
        service.audit(stored, action, actor, before, {**after, "reason": reason, "bulk": True})
        return stored
    raise VersionConflict(incident_id, "current", "kept changing")


def apply_bulk(service: IncidentService, incident_ids: Sequence[str], action: BulkAction, *,
               scope: frozenset[str] | None, actor: str, reason: str, assignee: str | None = None,
               resolution: Resolution | None = None) -> list[BulkResult]:
    """Apply ``action`` to each incident in turn (repeats once); per incident, what happened."""
    name, mutate = _mutation(action, actor=actor, service=service, reason=reason, assignee=assignee,
                             resolution=resolution)
    results = []
    for incident_id in dict.fromkeys(incident_ids):
        try:
            stored = _apply_one(service, incident_id, scope=scope, actor=actor, action=name, mutate=mutate,
                                reason=reason)
        except NotFound:
            results.append(BulkResult(incident_id, False, 404, "no such incident"))
        except InvalidChange as exc:
            results.append(BulkResult(incident_id, False, 422, f"{exc.field}: {exc.message}"))
        except VersionConflict:
            results.append(BulkResult(incident_id, False, 409, "the incident kept changing: read it again"))
        else:
            results.append(BulkResult(incident_id, True, 200, None, stored.version))
    return results
