"""Report drafts of one incident (incident notice, breach notice) and monitoring reports of an agency, as JSON
or as a printable Vietnamese HTML page (``?format=html``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import ClockDep, DirectoryDep, ServiceDep, StoreDep
from canhgac.api.params import CALENDAR, ObjectId, RequestedScope, within_calendar
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.monitoring import MonitoringReport, Period, monitoring_report, period_bounds
from canhgac.incidents.report_html import breach_notice_html, incident_notice_html, monitoring_html
from canhgac.incidents.reports import BreachNotice, IncidentNotice, breach_notice, incident_notice
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

router = APIRouter(tags=["reports"], responses=problem_responses(401, 404, 422, 503))
Format = Annotated[Literal["json", "html"], Query(description="json, or a printable Vietnamese page")]
HTML = {"text/html": {"schema": {"type": "string"}}}


def _answer(model: IncidentNotice | BreachNotice | MonitoringReport, html: str | None) -> Response:
    if html is not None:
        return HTMLResponse(html)
    return JSONResponse(model.model_dump(mode="json"))


@router.get("/incidents/{incident_id}/reports/incident-notice", response_model=IncidentNotice,
            responses={200: {"content": HTML}}, summary="Incident notice draft (Circular 20/2017/TT-BTTTT)")
def notice(incident_id: ObjectId, principal: CurrentPrincipal, service: ServiceDep, directory: DirectoryDep,
           clock: ClockDep, format: Format = "json") -> Response:
    draft = incident_notice(service.get(incident_id, scope=principal.scope), directory, clock())
    return _answer(draft, incident_notice_html(draft) if format == "html" else None)


@router.get("/incidents/{incident_id}/reports/breach-notice", response_model=BreachNotice,
            responses={200: {"content": HTML}},
            summary="Personal-data breach notice draft (Decree 356/2025/NĐ-CP, Art. 28)")
def breach(incident_id: ObjectId, principal: CurrentPrincipal, service: ServiceDep, directory: DirectoryDep,
           clock: ClockDep, format: Format = "json") -> Response:
    draft = breach_notice(service.get(incident_id, scope=principal.scope), directory, clock())
    return _answer(draft, breach_notice_html(draft) if format == "html" else None)


@router.get("/reports/monitoring", response_model=MonitoringReport, responses={200: {"content": HTML}},
            summary="Daily or weekly monitoring report of an agency subtree: targets, techniques, sources")
def monitoring(principal: CurrentPrincipal, scope: RequestedScope, store: StoreDep, directory: DirectoryDep,
               clock: ClockDep, agency: Annotated[str | None, Query(max_length=64)] = None,
               period: Period = "daily",
               day: Annotated[date | None, Query(description="A day of the period (default: today, GMT+7)")] = None,
               format: Format = "json") -> Response:
    chosen = day or clock().astimezone(VIETNAM).date()
    try:
        fits = all(within_calendar(bound) for bound in period_bounds(period, chosen))
    except OverflowError:  # the first or the last week of the calendar
        fits = False
    if not fits:
        raise InvalidParameter("query.day", f"the {period} period of this day must lie {CALENDAR}")
    report = monitoring_report(store, directory, scope, agency or principal.agency, period, chosen)
    return _answer(report, monitoring_html(report) if format == "html" else None)
