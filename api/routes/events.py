"""Events: search (field filters, free text, time range, the same results on every store) and one event."""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from canhgac.api.auth import CurrentPrincipal
from canhgac.api.cursor import decode, encode, link_next
from canhgac.api.deps import StoreDep
from canhgac.api.params import Limit, ObjectId, RequestedScope
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.core.errors import NotFound
from canhgac.storage.base import EventCursor, EventQuery
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

router = APIRouter(tags=["events"], responses=problem_responses(401, 404, 422, 503))
FIELD_NAME = re.compile(r"^[A-Za-z@][A-Za-z0-9_.@-]{0,99}$")
MAX_FILTERS = 20


def _filters(raw: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for index, item in enumerate(raw):
        name, sep, value = item.partition(":")
        if not sep or not FIELD_NAME.match(name):
            raise InvalidParameter(f"query.field[{index}]", "expected field.name:value, e.g. source.ip:203.0.113.5")
        out.setdefault(name, []).append(value)
    return out


@router.get("/events", response_model=list[dict[str, Any]],
            summary="Search events (flat ECS fields), newest first; the next page is in the Link header")
def search_events(request: Request, scope: RequestedScope, store: StoreDep,
                  q: Annotated[str | None, Query(max_length=500, description=(
                      "Free text: every word must be a word of the raw line (case-insensitive)"))] = None,
                  field: Annotated[list[Annotated[str, Query(max_length=1100)]] | None, Query(
                      max_length=MAX_FILTERS, description="name:value, repeatable; values of one name are ORed")]
                  = None,
                  since: Annotated[AwareDatetime | None, Query(description="@timestamp at or after")] = None,
                  until: Annotated[AwareDatetime | None, Query(description="@timestamp before")] = None,
                  oldest_first: bool = False,
                  cursor: Annotated[str | None, Query(max_length=500, description="From X-Next-Cursor")] = None,
                  limit: Limit = 100) -> Response:
    after = None
    if cursor is not None:
        payload = decode(cursor, "events")
        if not isinstance(payload.get("t"), str) or not isinstance(payload.get("i"), str) \
                or payload.get("o") != oldest_first:
            raise InvalidParameter("query.cursor", "not a cursor from this list")
        after = EventCursor(payload["t"], payload["i"])
    text = q if q is not None and q.strip() else None
    query = EventQuery(start=since, end=until, agencies=scope, filters=_filters(field or []), limit=limit,
                       newest_first=not oldest_first, after=after, text=text)
    found = store.search_events(query)
    response = Response(orjson.dumps(found), media_type="application/json")
    if len(found) == limit:
        last = EventCursor.of(found[-1])
        link_next(request, response, encode({"k": "events", "t": last.timestamp, "i": last.event_id,
                                             "o": oldest_first}))
    return response


@router.get("/events/{event_id}", response_model=dict[str, Any],
            summary="One stored event (flat ECS fields), e.g. evidence for an alert")
def get_event(event_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    event = store.get_event(event_id, agencies=principal.scope)
    if event is None:
        raise NotFound("no such event")
    return event
