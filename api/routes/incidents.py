"""Incidents: the scoped list and one incident with its alerts and audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth import CurrentPrincipal
from api.deps import DirectoryDep, StoreDep
from api.params import Limit, ObjectId, RequestedScope
from api.problems import problem_responses
from api.schemas import AlertOut, AuditEntryOut, IncidentDetail, IncidentOut
from canhgac.errors import NotFound
from canhgac.model import Alert, Incident, IncidentState
from storage.base import AlertQuery, IncidentQuery, Store

router = APIRouter(tags=["incidents"], responses=problem_responses(401, 422, 503))
MAX_ALERTS = 1000
MAX_AUDIT = 500


def get_current_incident(incident_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> Incident:
    incident = store.get_incident(incident_id, agencies=principal.scope)
    if incident is None:  # missing and out-of-scope look the same
        raise NotFound("no such incident")
    return incident


CurrentIncident = Annotated[Incident, Depends(get_current_incident)]


@router.get("/incidents", response_model=list[IncidentOut], summary="Incidents, newest activity first",
            responses=problem_responses(404))
def list_incidents(scope: RequestedScope, store: StoreDep, directory: DirectoryDep,
                   state: Annotated[list[IncidentState] | None, Query(
                       description="Only incidents in one of these states (repeat the parameter)")] = None,
                   limit: Limit = 100) -> list[IncidentOut]:
    query = IncidentQuery(agencies=scope, states=frozenset(state) if state else None, limit=limit)
    return [IncidentOut.of(incident, directory) for incident in store.search_incidents(query)]


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=problem_responses(404),
            summary="One incident with its alerts and audit trail; the ETag header carries its version")
def get_incident(incident: CurrentIncident, principal: CurrentPrincipal, store: StoreDep,
                 directory: DirectoryDep, response: Response) -> IncidentDetail:
    if incident.version is not None:
        response.headers["ETag"] = f'"{incident.version}"'
    audit = store.list_audit(object_type="incident", object_id=incident.id, agencies=principal.scope,
                             limit=MAX_AUDIT)
    return IncidentDetail(**IncidentOut.of(incident, directory).model_dump(),
                          alerts=[AlertOut.of(a) for a in _alerts_of(incident, store, principal.scope)],
                          audit=[AuditEntryOut.of(e) for e in audit])


def _alerts_of(incident: Incident, store: Store, scope: frozenset[str] | None) -> list[Alert]:
    if not incident.alert_ids:
        return []
    # The store has no lookup by alert id. An incident groups alerts of one fingerprint (its rule, its
    # agency, one source) seen between its first and last sighting, so that scoped search holds them.
    agencies = frozenset({incident.agency}) if scope is None else scope & {incident.agency}
    query = AlertQuery(agencies=agencies, rule_id=incident.rule_id, start=incident.first_seen,
                       end=incident.last_seen + timedelta(milliseconds=1), limit=MAX_ALERTS)
    wanted = set(incident.alert_ids)
    return [alert for alert in store.search_alerts(query) if alert.id in wanted]
