from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import CurrentPrincipal
from api.deps import StoreDep
from api.params import ObjectId
from api.problems import problem_responses
from canhgac.errors import NotFound

router = APIRouter(tags=["events"], responses=problem_responses(401, 404, 422, 503))


@router.get("/events/{event_id}", response_model=dict[str, Any],
            summary="One stored event (flat ECS fields), e.g. evidence for an alert")
def get_event(event_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    event = store.get_event(event_id, agencies=principal.scope)
    if event is None:
        raise NotFound("no such event")
    return event
