"""Query parameters several routes share: the result limit, the agencies a request may read, and the range of
times and numbers the stores can hold (bad input there is a 422 naming the parameter, never a 500)."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Annotated, Any

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import DirectoryDep
from canhgac.api.problems import InvalidParameter
from canhgac.core.errors import NotFound
from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from pydantic import AwareDatetime, TypeAdapter, ValidationError

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many results")]
# 128 characters stay within Elasticsearch's 512-byte limit on document ids, whatever the encoding.
ObjectId = Annotated[str, Path(min_length=1, max_length=128)]
#: Integers the stores can bind and compare: SQLite's INTEGER and Elasticsearch's ``long`` are both 64-bit.
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
#: Years the stores can hold: both write times as ISO 8601 with four-digit years, in UTC.
FIRST_YEAR = 1000
CALENDAR = f"between the years {FIRST_YEAR} and 9999 in UTC"
_MOMENT = TypeAdapter(AwareDatetime)


async def requested_scope(principal: CurrentPrincipal, directory: DirectoryDep,
                          agency: Annotated[str | None, Query(max_length=64, description=(
                              "Only this agency and the agencies below it (within the caller's scope)"))] = None,
                          ) -> frozenset[str] | None:
    if agency is None:
        return principal.scope
    if agency not in directory.agencies:
        raise InvalidParameter("query.agency", f"unknown agency {agency!r}")
    if principal.scope is not None and agency not in principal.scope:
        raise NotFound(f"agency {agency!r} is outside your scope")
    subtree = directory.subtree(agency)
    return subtree if principal.scope is None else subtree & principal.scope


#: What to pass as ``agencies=`` to store queries.
RequestedScope = Annotated[frozenset[str] | None, Depends(requested_scope)]


def within_calendar(moment: datetime) -> bool:
    """Whether the stores can keep and compare ``moment`` (naive: taken as UTC)."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    except OverflowError:  # e.g. 0001-01-01T00:00:00+07:00 is in year 0 in UTC
        return False
    return utc.year >= FIRST_YEAR


def within_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


async def times_within_calendar(request: Request) -> None:
    """Every date-time query parameter a route declares (``since``, ``until``, …) must lie inside the calendar
    once converted to UTC; the route's own validation then reads it as usual. Installed on the whole app."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    # Cached per app (which keeps its routes, so their ids stay theirs); routes compare by value, not identity.
    known: dict[int, list[str]] | None = getattr(request.app.state, "datetime_query_params", None)
    if known is None:
        known = request.app.state.datetime_query_params = {}
    if id(route) not in known:
        known[id(route)] = sorted(set(_datetime_query_names(dependant)))
    for name in known[id(route)]:
        for raw in request.query_params.getlist(name):
            try:
                moment = _MOMENT.validate_python(raw)
            except ValidationError:
                continue  # not a time at all: the route's validation names it
            if not within_calendar(moment):
                raise InvalidParameter(f"query.{name}", f"the time must lie {CALENDAR}")


def _datetime_query_names(dependant: Dependant) -> list[str]:
    names = [param.alias for param in dependant.query_params if _holds_datetime(param.field_info.annotation)]
    for sub in dependant.dependencies:
        names += _datetime_query_names(sub)
    return names


def _holds_datetime(annotation: Any) -> bool:
    if annotation is AwareDatetime or (isinstance(annotation, type) and issubclass(annotation, datetime)):
        return True
    return any(_holds_datetime(arg) for arg in typing.get_args(annotation))
