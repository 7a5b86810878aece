from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import StoreDep
from api.params import Limit, RequestedScope
from api.problems import problem_responses
from api.schemas import AlertOut
from canhgac.model import Severity
from storage.base import AlertQuery

router = APIRouter(tags=["alerts"], responses=problem_responses(401, 404, 422, 503))


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(scope: RequestedScope, store: StoreDep,
                rule_id: Annotated[str | None, Query(max_length=200)] = None,
                min_severity: Annotated[Severity | None, Query(description="Only this severity or higher")] = None,
                limit: Limit = 100) -> list[AlertOut]:
    query = AlertQuery(agencies=scope, rule_id=rule_id, min_severity=min_severity, limit=limit)
    return [AlertOut.of(alert) for alert in store.search_alerts(query)]
