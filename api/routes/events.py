"""Events: search (field filters, free text, time range, the same results on every store) and one event."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from canhgac.api.auth import CurrentPrincipal
from canhgac.api.cursor import decode, encode, link_next
from canhgac.api.deps import ClockDep, StoreDep
from canhgac.api.params import CALENDAR, Limit, ObjectId, RequestedScope, within_calendar, within_int64
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.core.errors import NotFound
from canhgac.core.model import parse_utc, to_utc_iso
from canhgac.incidents.overview import DEFAULT_RANGE, histogram_interval
from canhgac.storage.base import EventCursor, EventQuery
from canhgac.storage.elasticsearch.mappings import EVENT_FIELDS
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

router = APIRouter(tags=["events"], responses=problem_responses(401, 404, 422, 503))
FIELD_NAME = re.compile(r"^[A-Za-z@][A-Za-z0-9_.@-]{0,99}$")
MAX_FILTERS = 20
INTEGER = re.compile(r"-?[0-9]+")
MAX_BUCKETS = 1000
MAX_INTERVAL = 366 * 86400


def _filters(raw: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for index, item in enumerate(raw):
        name, sep, value = item.partition(":")
        if not sep or not FIELD_NAME.match(name):
            raise InvalidParameter(f"query.field[{index}]", "expected field.name:value, e.g. source.ip:203.0.113.5")
        try:
            out.setdefault(name, []).append(_typed(name, value))
        except ValueError as exc:
            raise InvalidParameter(f"query.field[{index}]", f"{name}: {exc}") from None
    return out


def _typed(name: str, value: str) -> str:
    """The value as the stores compare it, for fields with a type (``long``, ``ip``, ``date``): out of the type,
    a filter could match nothing on one store and be an error on the other."""
    kind = EVENT_FIELDS.get(name, {}).get("type")
    if kind == "long" or (kind is None and value.lstrip("-").isdigit()):  # SQLite compares digits as integers
        if not INTEGER.fullmatch(value) or not within_int64(int(value)):
            raise ValueError("expected a whole number of at most 64 bits" if kind else
                             "a number beyond 64 bits (or in other digits than 0-9) cannot be searched")
        return str(int(value)) if kind else value
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("expected an IPv4 or IPv6 address") from None
    if kind == "date":
        try:
            moment = parse_utc(value)
        except (ValueError, OverflowError):
            moment = None
        if moment is None or not within_calendar(moment):
            raise ValueError(f"expected an ISO 8601 time {CALENDAR}")
        return to_utc_iso(moment)
    return value


@router.get("/events", response_model=list[dict[str, Any]],
            responses={200: {"headers": {"X-Total-Count": {
                "description": "How many events match (ignoring cursor and limit)", "schema": {"type": "integer"}}}}},
            summary="Search events (flat ECS fields), newest first; the next page is in the Link header, the number "
                    "of matches in X-Total-Count")
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
    response.headers["X-Total-Count"] = str(store.count_events(replace(query, after=None)))
    if len(found) == limit:
        last = EventCursor.of(found[-1])
        link_next(request, response, encode({"k": "events", "t": last.timestamp, "i": last.event_id,
                                             "o": oldest_first}))
    return response


class EventBucket(BaseModel):
    start: datetime
    count: int


class EventHistogram(BaseModel):
    since: datetime
    until: datetime
    interval_seconds: int
    total: int = Field(description="Matching events in the range")
    buckets: list[EventBucket] = Field(description="Every interval of the range, oldest first (empty ones too)")


@router.get("/events/histogram", response_model=EventHistogram,
            summary="Matching events per time interval (the same filters as the event search; default range: the "
                    "last 24 hours, about 60 intervals)")
def event_histogram(scope: RequestedScope, store: StoreDep, clock: ClockDep,
                    q: Annotated[str | None, Query(max_length=500, description="Free text, as in the search")] = None,
                    field: Annotated[list[Annotated[str, Query(max_length=1100)]] | None, Query(
                        max_length=MAX_FILTERS, description="name:value, repeatable, as in the search")] = None,
                    since: Annotated[AwareDatetime | None, Query(description="Start (default: until − 24 h)")] = None,
                    until: Annotated[AwareDatetime | None, Query(description="End, exclusive (default: now)")] = None,
                    interval: Annotated[int | None, Query(ge=1, le=MAX_INTERVAL, description=(
                        "Bucket width in seconds (default: about 60 buckets)"))] = None) -> EventHistogram:
    end = until or clock()
    start = since or end - DEFAULT_RANGE
    if start >= end:
        raise InvalidParameter("query.since", "must be before until")
    width = interval or histogram_interval(start, end)
    if (end - start).total_seconds() / width > MAX_BUCKETS:
        raise InvalidParameter("query.interval", f"at most {MAX_BUCKETS} buckets: choose a wider interval")
    text = q if q is not None and q.strip() else None
    query = EventQuery(start=start, end=end, agencies=scope, filters=_filters(field or []), text=text)
    found = {int(b.start.timestamp()): b.count for b in store.count_events_over_time(query, width)}
    first = int(start.timestamp()) // width * width
    buckets = [EventBucket(start=datetime.fromtimestamp(at, UTC), count=found.get(at, 0))
               for at in range(first, int(end.timestamp()), width)]
    return EventHistogram(since=start, until=end, interval_seconds=width, total=sum(found.values()), buckets=buckets)


@router.get("/events/{event_id}", response_model=dict[str, Any],
            summary="One stored event (flat ECS fields), e.g. evidence for an alert")
def get_event(event_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    event = store.get_event(event_id, agencies=principal.scope)
    if event is None:
        raise NotFound("no such event")
    return event
