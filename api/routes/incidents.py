"""Incidents: the scoped, filtered, sorted, cursor-paged list; one incident; opening and editing one."""

from __future__ import annotations

from typing import Annotated, Literal

from canhgac.api.alert_feedback import with_feedback
from canhgac.api.answer_cache import keep_until
from canhgac.api.auth import CurrentPrincipal
from canhgac.api.bodies import NOT_NULL, SOC_ONLY, IncidentCreate, IncidentPatch
from canhgac.api.cursor import decode, encode, link_next
from canhgac.api.deps import ServiceDep, StoreDep, read_store
from canhgac.api.etag import expected_version, set_etag
from canhgac.api.incident_views import IncidentDetail, IncidentOut, IncidentView, Presenter, PresenterDep
from canhgac.api.params import ObjectId, RequestedScope
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.api.rule_catalog import rule_catalog
from canhgac.api.schemas import AlertOut, AuditEntryOut
from canhgac.core.errors import NotFound
from canhgac.core.model import Alert, Incident, IncidentState, Severity
from canhgac.incidents import lifecycle
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.operations import create_manual, visible_systems
from canhgac.storage.base import IncidentCursor, IncidentQuery, Store
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

router = APIRouter(tags=["incidents"], responses=problem_responses(401, 422, 503))
WRITE_PROBLEMS = problem_responses(403, 404, 412, 428)
MAX_ALERTS = 1000
MAX_AUDIT = 500
Sort = Literal["-last_seen", "last_seen", "-first_seen", "first_seen", "-created", "created", "-severity", "severity",
               "-state", "state", "-alert_count", "alert_count", "-id", "id", "-agency", "agency"]
#: Sorts whose cursor value is text (the others are whole numbers).
TEXT_SORTS = frozenset({"id", "agency"})
TOTAL_COUNT = {"X-Total-Count": {"description": "How many incidents match the filters (ignoring cursor and limit)",
                                 "schema": {"type": "integer"}},
               "X-Next-Cursor": {"description": "The cursor of the next page, when there is one",
                                 "schema": {"type": "string"}}}
IfMatch = Annotated[str, Depends(expected_version)]


def get_current_incident(incident_id: ObjectId, principal: CurrentPrincipal, service: ServiceDep) -> Incident:
    return service.get(incident_id, scope=principal.scope)


CurrentIncident = Annotated[Incident, Depends(get_current_incident)]


@router.get("/incidents", response_model=list[IncidentOut],
            responses={200: {"headers": TOTAL_COUNT}, **problem_responses(404)},
            summary="Incidents in the caller's scope; the next page is in the Link header (rel=next), the number "
                    "of matches in X-Total-Count")
async def list_incidents(request: Request, scope: RequestedScope, store: StoreDep, presenter: PresenterDep,
                   q: Annotated[str | None, Query(max_length=200, description=(
                       "Free text: every word must begin a word of the incident's number, title, addresses or "
                       "users, rule titles, assignee or system (case and Vietnamese diacritics ignored)"))] = None,
                   state: Annotated[list[IncidentState] | None, Query(
                       description="Only incidents in one of these states (repeat the parameter)")] = None,
                   severity: Annotated[list[Severity] | None, Query(description="Any of these severities")] = None,
                   system: Annotated[list[Annotated[str, Query(max_length=64)]] | None, Query(
                       description="Any of these systems")] = None,
                   rule_id: Annotated[str | None, Query(max_length=200, description=(
                       "The rule that opened the incident or any rule that joined it"))] = None,
                   assignee: Annotated[str | None, Query(max_length=128)] = None,
                   since: Annotated[AwareDatetime | None, Query(description="Last seen at or after")] = None,
                   until: Annotated[AwareDatetime | None, Query(description="Last seen before")] = None,
                   sort: Annotated[Sort, Query(description="A field; a leading - sorts newest/highest first")]
                   = "-last_seen",
                   cursor: Annotated[str | None, Query(max_length=500, description="From X-Next-Cursor")] = None,
                   limit: Annotated[int, Query(ge=1, le=500, description="At most this many results")] = 50,
                   ) -> Response:
    field = sort.lstrip("-")
    after = None
    if cursor is not None:
        payload = decode(cursor, "incidents")
        value_type = str if field in TEXT_SORTS else int
        if payload.get("s") != sort or not isinstance(payload.get("v"), value_type) or \
                not isinstance(payload.get("i"), str):
            raise InvalidParameter("query.cursor", "the cursor belongs to another sort order")
        after = IncidentCursor(payload["v"], payload["i"])
    text = q if q is not None and q.strip() else None
    query = IncidentQuery(agencies=scope, states=frozenset(state) if state else None,
                          severities=frozenset(severity) if severity else None,
                          systems=frozenset(system) if system else None, rule_id=rule_id, assignee=assignee,
                          start=since, end=until, sort=field, descending=sort.startswith("-"),  # type: ignore[arg-type]
                          after=after, limit=limit, text=text, read_only=True)
    return await read_store(store, _list_page, request, store, presenter, query, sort)


def _list_page(request: Request, store: Store, presenter: Presenter, query: IncidentQuery, sort: str) -> Response:
    found = store.search_incidents(query)
    body, first_overdue = presenter.summaries_json(found)
    response = Response(body, media_type="application/json")
    keep_until(request, first_overdue)
    response.headers["X-Total-Count"] = str(store.count_incidents(query))
    if len(found) == query.limit:
        last = IncidentCursor.of(found[-1], query.sort)
        link_next(request, response, encode({"k": "incidents", "s": sort, "v": last.value, "i": last.incident_id}))
    return response


@router.post("/incidents", response_model=IncidentView, status_code=201, responses=problem_responses(403, 404),
             summary="Open an incident by hand (e.g. reported by phone); it gets the agency's next number")
def create_incident(body: IncidentCreate, principal: CurrentPrincipal, service: ServiceDep,
                    presenter: PresenterDep, response: Response) -> IncidentView:
    scope = principal.writable_scope()
    if body.agency not in service.directory.agencies:
        raise InvalidChange("body.agency", f"unknown agency {body.agency!r}")
    if scope is not None and body.agency not in scope:
        raise NotFound(f"agency {body.agency!r} is outside your scope")
    incident = create_manual(service, actor=principal.name, agency=body.agency, title=body.title,
                             severity=body.severity, system=body.system, description=body.description,
                             detected_at=body.detected_at, categories=body.categories, scope=scope)
    set_etag(response, incident)
    response.headers["Location"] = f"/api/v1/incidents/{incident.id}"
    return presenter.view(incident)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=problem_responses(404),
            summary="One incident with its alerts, clocks and audit trail; the ETag header carries its version")
def get_incident(incident: CurrentIncident, principal: CurrentPrincipal, store: StoreDep,
                 presenter: PresenterDep, request: Request, response: Response) -> IncidentDetail:
    set_etag(response, incident)
    audit = store.list_audit(object_type="incident", object_id=incident.id, agencies=principal.scope,
                             limit=MAX_AUDIT)
    alerts = with_feedback(store, [AlertOut.of(a) for a in _alerts_of(incident, store, principal.scope)])
    return presenter.detail(incident, alerts,
                            [AuditEntryOut.of(e) for e in audit], rule_catalog(request))


@router.patch("/incidents/{incident_id}", response_model=IncidentView, responses=WRITE_PROBLEMS,
              summary="Change fields (title, severity, assignee, categories, ATT&CK, report text; the detection "
                      "time: SOC only)")
def patch_incident(incident_id: ObjectId, body: IncidentPatch, principal: CurrentPrincipal, service: ServiceDep,
                   presenter: PresenterDep, version: IfMatch, response: Response) -> IncidentView:
    scope = principal.writable_scope()
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise InvalidChange(f"body.{name}", "cannot be null")
    if not changes:
        raise InvalidChange("body", "nothing to change")
    for name in changes.keys() & SOC_ONLY.keys():
        principal.require_soc(f"body.{name}", *SOC_ONLY[name])
    known = visible_systems(service, scope)
    incident = service.apply(incident_id, scope=scope, expected_version=version, actor=principal.name,
                             action="update", mutate=lambda i: lifecycle.apply_fields(
                                 i, changes, now=service.clock(), known_systems=known))
    set_etag(response, incident)
    return presenter.view(incident)


def _alerts_of(incident: Incident, store: Store, scope: frozenset[str] | None) -> list[Alert]:
    if not incident.alert_ids:
        return []
    found = store.get_alerts(incident.alert_ids, agencies=scope)
    return sorted(found, key=lambda a: (a.last_seen, a.id), reverse=True)[:MAX_ALERTS]
