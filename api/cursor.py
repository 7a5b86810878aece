"""Opaque cursors for lists: the position after the last item of a page, base64url JSON.

The next page's URL goes in the ``Link`` header (``rel="next"``) and its cursor in ``X-Next-Cursor``, so
list bodies stay plain JSON arrays. A cursor comes back from the client, so it is input like any other: every
value in it is checked against what its list writes (a forged one is a 422 naming ``query.cursor``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson
from canhgac.api.params import within_calendar, within_int64
from canhgac.api.problems import InvalidParameter
from canhgac.core.model import parse_utc, to_utc_iso
from fastapi import Request, Response

MAX_ID = 512  # Elasticsearch's limit on document ids; no id this API writes is longer


class _Forged(ValueError):
    pass


def _timestamp(value: Any) -> str:
    try:
        moment = parse_utc(value) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None or not within_calendar(moment):
        raise _Forged
    return to_utc_iso(moment)


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise _Forged
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not within_int64(value):
        raise _Forged
    return value


def _sort_value(value: Any) -> Any:
    """An incident sort value: a whole number, or an id or agency (a text sort)."""
    return _identifier(value) if isinstance(value, str) else _integer(value)


def _text(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 100:
        raise _Forged
    return value


def _flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _Forged
    return value


#: What each list writes in its cursors (see the routes' ``encode`` calls); nothing else is accepted.
SHAPES: dict[str, dict[str, Callable[[Any], Any]]] = {
    "events": {"t": _timestamp, "i": _identifier, "o": _flag},
    "alerts": {"t": _timestamp, "i": _identifier},
    "incidents": {"s": _text, "v": _sort_value, "i": _identifier},
}


def encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode(token: str, kind: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidParameter("query.cursor", "not a cursor from this API") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise InvalidParameter("query.cursor", "not a cursor from this list")
    shape = SHAPES.get(kind)
    if shape is None:
        return payload
    if set(payload) != {"k", *shape}:
        raise InvalidParameter("query.cursor", "not a cursor from this list")
    try:
        return {"k": kind, **{key: check(payload[key]) for key, check in shape.items()}}
    except _Forged:
        raise InvalidParameter("query.cursor", "not a cursor from this list") from None


def link_next(request: Request, response: Response, token: str | None) -> None:
    if token is None:
        return
    url = request.url.include_query_params(cursor=token)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    response.headers["X-Next-Cursor"] = token
