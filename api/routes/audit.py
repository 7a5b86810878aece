from __future__ import annotations

from typing import Annotated, Literal

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import StoreDep
from canhgac.api.params import Limit
from canhgac.api.problems import problem_responses
from canhgac.api.schemas import AuditEntryOut
from fastapi import APIRouter, Query

router = APIRouter(tags=["audit"], responses=problem_responses(401, 422, 503))


@router.get("/audit", response_model=list[AuditEntryOut],
            summary="The append-only audit trail of the caller's scope, oldest first")
def audit(principal: CurrentPrincipal, store: StoreDep,
          object_type: Annotated[Literal["incident", "suppression", "api_key", "alert"] | None, Query()] = None,
          object_id: Annotated[str | None, Query(max_length=128)] = None,
          limit: Limit = 100) -> list[AuditEntryOut]:
    entries = store.list_audit(object_type=object_type, object_id=object_id, agencies=principal.scope, limit=limit)
    return [AuditEntryOut.of(e) for e in entries]
