"""Lifecycle actions on one incident. Every one needs If-Match (the ETag last read), answers with the
changed incident and its new ETag, and leaves an audit entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.bodies import (
    BulkIn,
    CommentIn,
    FilingIn,
    MergeIn,
    ObservableIn,
    ReopenIn,
    SeriousIn,
    SplitIn,
    TaskIn,
    TaskPatch,
    TransitionIn,
)
from canhgac.api.deps import ServiceDep
from canhgac.api.etag import expected_version, set_etag
from canhgac.api.incident_views import IncidentView, PresenterDep
from canhgac.api.params import ObjectId
from canhgac.api.problems import problem_responses
from canhgac.core.model import Incident
from canhgac.incidents import lifecycle
from canhgac.incidents.bulk import apply_bulk
from canhgac.incidents.clocks import due_for_filing
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.operations import merge, split
from canhgac.incidents.service import IncidentService
from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

router = APIRouter(tags=["incident lifecycle"], responses=problem_responses(401, 403, 404, 412, 422, 428, 503))
IfMatch = Annotated[str, Depends(expected_version)]
ItemId = Annotated[str, Path(min_length=1, max_length=64)]


def _act(incident_id: str, principal: CurrentPrincipal, service: IncidentService, version: str, action: str,
         mutate: Callable[[Incident], Incident], presenter: PresenterDep, response: Response) -> IncidentView:
    incident = service.apply(incident_id, scope=principal.writable_scope(), expected_version=version,
                             actor=principal.name, action=action, mutate=mutate)
    set_etag(response, incident)
    return presenter.view(incident)


class BulkItemOut(BaseModel):
    id: str
    ok: bool
    status: int = Field(description="What the single-incident action would have answered (200, 404, 409, 422)")
    detail: str | None
    version: str | None = Field(description="The incident's new version (ETag) when it changed")


class BulkOut(BaseModel):
    results: list[BulkItemOut]


@router.post("/incidents/bulk", response_model=BulkOut, responses=problem_responses(403, 422),
             summary="Acknowledge, assign or close many incidents with one reason; each is checked and audited on "
                     "its own, one failure does not stop the others (no If-Match: each is changed as it is now)")
def bulk(body: BulkIn, principal: CurrentPrincipal, service: ServiceDep) -> BulkOut:
    scope = principal.writable_scope()
    if body.action == "assign" and body.assignee is None:
        raise InvalidChange("body.assignee", "required to assign")
    if body.action == "close" and body.resolution is None:
        raise InvalidChange("body.resolution", "required to close")
    results = apply_bulk(service, body.ids, body.action, scope=scope, actor=principal.name, reason=body.reason,
                         assignee=body.assignee, resolution=body.resolution)
    return BulkOut(results=[BulkItemOut(**vars(r)) for r in results])


@router.post("/incidents/{incident_id}/transition", response_model=IncidentView,
             summary="Move along new → acknowledged → investigating → contained → resolved → closed")
def transition(incident_id: ObjectId, body: TransitionIn, principal: CurrentPrincipal, service: ServiceDep,
               version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, f"transition:{body.state.value}",
                lambda i: lifecycle.transition(i, body.state, actor=principal.name, now=service.clock(),
                                               resolution=body.resolution, reason=body.reason),
                presenter, response)


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentView,
             summary="Reopen a resolved or closed incident (it goes back to investigating)")
def reopen(incident_id: ObjectId, body: ReopenIn, principal: CurrentPrincipal, service: ServiceDep,
           version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, "reopen",
                lambda i: lifecycle.reopen(i, actor=principal.name, now=service.clock(), reason=body.reason),
                presenter, response)


@router.post("/incidents/{incident_id}/comments", response_model=IncidentView, summary="Add a comment")
def comment(incident_id: ObjectId, body: CommentIn, principal: CurrentPrincipal, service: ServiceDep,
            version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, "comment",
                lambda i: lifecycle.add_comment(i, body.text, actor=principal.name, now=service.clock(),
                                                      to_chat=body.to_chat),
                presenter, response)


@router.post("/incidents/{incident_id}/tasks", response_model=IncidentView, summary="Add a task")
def add_task(incident_id: ObjectId, body: TaskIn, principal: CurrentPrincipal, service: ServiceDep,
             version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, "task_add",
                lambda i: lifecycle.add_task(i, body.title, body.assignee, now=service.clock()), presenter, response)


@router.patch("/incidents/{incident_id}/tasks/{task_id}", response_model=IncidentView,
              summary="Change a task's title, state or assignee")
def change_task(incident_id: ObjectId, task_id: ItemId, body: TaskPatch, principal: CurrentPrincipal,
                service: ServiceDep, version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return _act(incident_id, principal, service, version, "task_change",
                lambda i: lifecycle.change_task(i, task_id, changes, now=service.clock()), presenter, response)


@router.post("/incidents/{incident_id}/observables", response_model=IncidentView,
             summary="Add an observable (address, domain, URL, hash, account, …)")
def add_observable(incident_id: ObjectId, body: ObservableIn, principal: CurrentPrincipal, service: ServiceDep,
                   version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, "observable_add",
                lambda i: lifecycle.add_observable(i, body.type, body.value, body.note), presenter, response)


@router.delete("/incidents/{incident_id}/observables/{observable_id}", response_model=IncidentView,
               summary="Remove an observable")
def remove_observable(incident_id: ObjectId, observable_id: ItemId, principal: CurrentPrincipal,
                      service: ServiceDep, version: IfMatch, presenter: PresenterDep,
                      response: Response) -> IncidentView:
    return _act(incident_id, principal, service, version, "observable_remove",
                lambda i: lifecycle.remove_observable(i, observable_id), presenter, response)


@router.post("/incidents/{incident_id}/serious", response_model=IncidentView,
             summary="Override the computed serious-incident flag with a reason (null removes the override); "
                     "SOC only")
def override_serious(incident_id: ObjectId, body: SeriousIn, principal: CurrentPrincipal, service: ServiceDep,
                     version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    principal.require_soc("body.serious", "ghi đè cờ sự cố nghiêm trọng", "override the serious-incident flag")
    return _act(incident_id, principal, service, version, "serious_override",
                lambda i: lifecycle.override_serious(i, body.serious, body.reason, actor=principal.name,
                                                     now=service.clock()), presenter, response)


@router.post("/incidents/{incident_id}/filings", response_model=IncidentView,
             summary="Record that a legal notice was sent; after its deadline a reason is required. Agency staff "
                     "record it as sent now; an earlier time is for the SOC")
def file_notice(incident_id: ObjectId, body: FilingIn, principal: CurrentPrincipal, service: ServiceDep,
                version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    now = service.clock()
    tolerance = lifecycle.AGENCY_BACKDATE_TOLERANCE
    if body.filed_at is not None and body.filed_at < now - tolerance:
        minutes = int(tolerance.total_seconds() // 60)
        principal.require_soc("body.filed_at", f"ghi nhận văn bản gửi sớm hơn {minutes} phút trước",
                              f"record a filing sent more than {minutes} minutes ago")
    return _act(incident_id, principal, service, version, f"filing:{body.kind.value}",
                lambda i: lifecycle.file_notice(i, body.kind, due=due_for_filing(i, service.settings, body.kind),
                                                filed_at=body.filed_at or now, actor=principal.name, now=now,
                                                reference=body.reference, late_reason=body.late_reason),
                presenter, response)


@router.post("/incidents/{incident_id}/merge", response_model=IncidentView,
             summary="Merge other incidents into this one; they are closed as duplicates")
def merge_into(incident_id: ObjectId, body: MergeIn, principal: CurrentPrincipal, service: ServiceDep,
               version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    merged = merge(service, incident_id, body.source_ids, scope=principal.writable_scope(),
                   expected_version=version, actor=principal.name)
    set_etag(response, merged)
    return presenter.view(merged)


@router.post("/incidents/{incident_id}/split", response_model=IncidentView, status_code=201,
             summary="Move some alerts to a new incident; answers with the new incident")
def split_off(incident_id: ObjectId, body: SplitIn, principal: CurrentPrincipal, service: ServiceDep,
              version: IfMatch, presenter: PresenterDep, response: Response) -> IncidentView:
    _, created = split(service, incident_id, body.alert_ids, scope=principal.writable_scope(),
                       expected_version=version, actor=principal.name, title=body.title)
    set_etag(response, created)
    response.headers["Location"] = f"/api/v1/incidents/{created.id}"
    return presenter.view(created)
