"""The overview (tổng quan) of the caller's scope over a time range: counts, histogram, tops, missed deadlines."""

from __future__ import annotations

from typing import Annotated

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import ClockDep, DirectoryDep, StoreDep
from canhgac.api.params import RequestedScope
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.api.rule_catalog import rule_catalog
from canhgac.incidents.overview import DEFAULT_RANGE, Overview, overview
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime

router = APIRouter(tags=["overview"], responses=problem_responses(401, 404, 422, 503))


@router.get("/overview", response_model=Overview,
            summary="Incidents by severity and state, alerts over time by severity, top sources, rules and systems, "
                    "and overdue legal deadlines, for the caller's scope (default: the last 24 hours)")
def get_overview(request: Request, _: CurrentPrincipal, scope: RequestedScope, store: StoreDep,
                 directory: DirectoryDep, clock: ClockDep,
                 since: Annotated[AwareDatetime | None, Query(description="Start (default: until − 24 h)")] = None,
                 until: Annotated[AwareDatetime | None, Query(description="End, exclusive (default: now)")] = None,
                 ) -> Overview:
    now = clock()
    end = until or now
    start = since or end - DEFAULT_RANGE
    if start >= end:
        raise InvalidParameter("query.since", "must be before until")
    catalog = rule_catalog(request)

    def titles(rule_id: str) -> tuple[str, str | None]:
        rule = catalog.get(rule_id)
        return (rule.title, rule.title_vi) if rule is not None else (rule_id, None)

    return overview(store, directory, scope=scope, since=start, until=end, now=now, rule_titles=titles)
