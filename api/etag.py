"""Optimistic concurrency over HTTP: the ETag of an incident is its store version; every write names the
version it was based on in ``If-Match`` (428 without it, 412 when it is stale)."""

from __future__ import annotations

from typing import Annotated

from canhgac.core.model import Incident
from fastapi import Header, HTTPException, Response


async def expected_version(if_match: Annotated[str | None, Header(
        alias="If-Match", max_length=200,
        description='The ETag of the incident as last read, e.g. "3"; * for whatever is stored')] = None) -> str:
    if if_match is None or not if_match.strip():
        raise HTTPException(428, "send If-Match with the ETag of the incident you read")
    value = if_match.strip()
    if value == "*":
        return "*"
    return value.removeprefix("W/").strip('"')


def set_etag(response: Response, incident: Incident) -> None:
    if incident.version is not None:
        response.headers["ETag"] = f'"{incident.version}"'
