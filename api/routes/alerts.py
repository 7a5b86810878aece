from __future__ import annotations

from typing import Annotated

from canhgac.api.alert_feedback import FeedbackIn, FeedbackOut, mark_alert_expected, with_feedback
from canhgac.api.auth import CurrentPrincipal
from canhgac.api.cursor import decode, encode, link_next
from canhgac.api.deps import ServiceDep, StoreDep
from canhgac.api.params import Limit, ObjectId, RequestedScope
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.api.schemas import AlertOut
from canhgac.core.errors import NotFound
from canhgac.core.model import Severity, parse_utc, to_utc_iso
from canhgac.storage.base import AlertCursor, AlertQuery
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, TypeAdapter

router = APIRouter(tags=["alerts"], responses=problem_responses(401, 404, 422, 503))
_LIST = TypeAdapter(list[AlertOut])


@router.get("/alerts", response_model=list[AlertOut],
            summary="Alerts, newest first; the next page is in the Link header (rel=next)")
def list_alerts(request: Request, scope: RequestedScope, store: StoreDep,
                rule_id: Annotated[str | None, Query(max_length=200)] = None,
                min_severity: Annotated[Severity | None, Query(description="Only this severity or higher")] = None,
                since: Annotated[AwareDatetime | None, Query(description="Last seen at or after")] = None,
                until: Annotated[AwareDatetime | None, Query(description="Last seen before")] = None,
                cursor: Annotated[str | None, Query(max_length=500, description="From X-Next-Cursor")] = None,
                limit: Limit = 100) -> Response:
    after = None
    if cursor is not None:
        payload = decode(cursor, "alerts")
        try:
            after = AlertCursor(parse_utc(str(payload["t"])), str(payload["i"]))
        except (KeyError, ValueError):
            raise InvalidParameter("query.cursor", "not a cursor from this list") from None
    query = AlertQuery(agencies=scope, rule_id=rule_id, min_severity=min_severity, start=since, end=until,
                       after=after, limit=limit)
    found = store.search_alerts(query)
    response = Response(_LIST.dump_json([AlertOut.of(a) for a in found]), media_type="application/json")
    if len(found) == limit:
        link_next(request, response, encode({"k": "alerts", "t": to_utc_iso(found[-1].last_seen), "i": found[-1].id}))
    return response


@router.get("/alerts/{alert_id}", response_model=AlertOut, responses=problem_responses(404),
            summary="One alert; a behaviour alert carries the analyst's feedback in details.feedback")
def get_alert(alert_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> AlertOut:
    found = store.get_alerts([alert_id], agencies=principal.scope)
    if not found:
        raise NotFound("no such alert")
    return with_feedback(store, [AlertOut.of(found[0])])[0]


@router.post("/alerts/{alert_id}/feedback", response_model=FeedbackOut, responses=problem_responses(403, 409),
             summary="Mark a behaviour alert as expected work (công việc bình thường), once: the baseline learns "
                     "it, optionally a suppression for some days; audited")
def post_feedback(alert_id: ObjectId, body: FeedbackIn, principal: CurrentPrincipal,
                  service: ServiceDep) -> FeedbackOut:
    return mark_alert_expected(service, principal, alert_id, body)
