"""Opaque cursors for lists: the position after the last item of a page, base64url JSON.

The next page's URL goes in the ``Link`` header (``rel="next"``) and its cursor in ``X-Next-Cursor``, so
list bodies stay plain JSON arrays.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from canhgac.api.problems import InvalidParameter
from fastapi import Request, Response


def encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode(token: str, kind: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidParameter("query.cursor", "not a cursor from this API") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise InvalidParameter("query.cursor", "not a cursor from this list")
    return payload


def link_next(request: Request, response: Response, token: str | None) -> None:
    if token is None:
        return
    url = request.url.include_query_params(cursor=token)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    response.headers["X-Next-Cursor"] = token
