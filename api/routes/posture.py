"""Posture (tình trạng an toàn thông tin) of an agency subtree, and the national ranking of one level."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import ClockDep, DirectoryDep, SettingsDep, StoreDep
from canhgac.api.params import RequestedScope
from canhgac.api.problems import problem_responses
from canhgac.core.config import AgencyLevel
from canhgac.incidents.posture import Posture, Ranking, RankingCache, posture, ranking, weeks
from fastapi import APIRouter, Query, Request

router = APIRouter(tags=["posture"], responses=problem_responses(401, 404, 422, 503))
Days = Annotated[int | None, Query(ge=1, le=366, description="The period, in days (default: configured)")]
_cache_lock = threading.Lock()


def _ranking_cache(request: Request) -> RankingCache:
    """One cache per application (per store and directory), made on first use."""
    with _cache_lock:
        cache = getattr(request.app.state, "ranking_cache", None)
        if cache is None:
            cache = request.app.state.ranking_cache = RankingCache()
        return cache


@router.get("/posture", response_model=Posture,
            summary="Open incidents, trends, MTTA/MTTR, SLA compliance, overdue deadlines and the score")
def get_posture(principal: CurrentPrincipal, scope: RequestedScope, store: StoreDep, directory: DirectoryDep,
                settings: SettingsDep, clock: ClockDep,
                agency: Annotated[str | None, Query(max_length=64)] = None, days: Days = None) -> Posture:
    now = clock()
    since = now - timedelta(days=days or settings.incidents.posture.period_days)
    result = posture(store, directory, scope, agency=agency or principal.agency, since=since, now=now)
    result.weeks = weeks(store, scope, since, now)
    return result


@router.get("/posture/ranking", response_model=Ranking,
            summary="Agencies of one level ranked by score (recomputed at most once a minute); agency roles get "
                    "their own entries and rank only")
def get_ranking(request: Request, principal: CurrentPrincipal, store: StoreDep, directory: DirectoryDep,
                settings: SettingsDep, clock: ClockDep, level: AgencyLevel = AgencyLevel.province,
                days: Days = None) -> Ranking:
    now = clock()
    period = days or settings.incidents.posture.period_days

    def compute() -> Ranking:
        since = now - timedelta(days=period)
        return ranking(store, directory, level, since=since, now=now)

    result = _ranking_cache(request).get(level, period, now, compute)
    if principal.scope is not None:
        result.entries = [e for e in result.entries if e.agency in principal.scope]
    return result
