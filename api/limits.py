"""Bounds on what a request may cost before anyone has looked at it (docs/decisions/0027-request-limits.md).

``RequestLimits`` is pure ASGI and sits in front of routing, authentication and parsing: a body whose
``Content-Length`` is over the route's limit is refused (413) before a byte of it is read; a streamed body (chunked,
or longer than it said) is cut off at the limit; and on a route that needs an API key, a request with a body is
authenticated first, so a caller without a valid key gets its 401 without the server waiting for the body. The
ingest routes have their own, larger limit and authenticate with push tokens themselves, also before reading.

``PushRateLimiter`` keeps two token buckets per push token: requests, and lines."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from canhgac.api.auth import authenticate
from canhgac.api.problems import problem
from canhgac.core.config_collection import PushRateLimit
from canhgac.core.errors import StoreUnavailable
from fastapi import FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: JSON bodies of the API. The largest legitimate one, a split of 200 alert ids, is about 50 KB.
API_BODY_LIMIT = 1 << 20
API_PREFIX = "/api/v1"
INGEST_PREFIX = API_PREFIX + "/ingest"
#: Slack's requests carry a signature, checked from the headers before the body is read (api/slack_signature.py).
SLACK_PREFIX = API_PREFIX + "/slack/"


class RequestTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit; every handler answers it with a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"nội dung yêu cầu vượt quá {limit} byte — the request body is over {limit} bytes")
        self.limit = limit


def is_ingest(path: str) -> bool:
    return path == INGEST_PREFIX or path.startswith(INGEST_PREFIX + "/")


def body_limit(app: FastAPI, path: str) -> int:
    return app.state.settings.collection.http.max_body_bytes if is_ingest(path) else API_BODY_LIMIT


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application: FastAPI = scope["app"]
        limit = body_limit(application, scope["path"])
        request = Request(scope)
        headers = request.headers
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await problem(413, RequestTooLarge(limit).detail)(scope, receive, send)
            return
        has_body = (declared.isdigit() and int(declared) > 0) or "chunked" in headers.get("transfer-encoding", "")
        if has_body and needs_api_key(scope["path"]):
            refusal = await _authentication_refusal(application, request)
            if refusal is not None:
                await problem(401, refusal.detail, headers=dict(refusal.headers or {}))(scope, receive, send)
                return
        await self.app(scope, _counting(receive, limit), send)


def needs_api_key(path: str) -> bool:
    """Whether a request to ``path`` with a body must show an API key first: every route under /api/v1 that
    takes a body does, except the ingest routes (push tokens, checked by the route before it reads) and Slack's
    (signature headers, checked the same way);
    tests/security/test_bodies.py holds the OpenAPI document to that."""
    return path.startswith(API_PREFIX + "/") and not is_ingest(path) and not path.startswith(SLACK_PREFIX)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise RequestTooLarge(limit)
        return message

    return counted


async def _authentication_refusal(app: FastAPI, request: Request) -> HTTPException | None:
    """Run the API's own authentication on the headers alone (as its ``X-API-Key`` and bearer schemes read them);
    the refusal it raised, if any. With the store down, the route's own authentication answers (503)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    bearer = (HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials.strip())
              if scheme.lower() == "bearer" and credentials.strip() else None)
    try:
        await authenticate(settings=app.state.settings, directory=app.state.directory, store=app.state.store,
                           header_key=request.headers.get("x-api-key") or None, bearer=bearer)
    except HTTPException as exc:
        return exc
    except StoreUnavailable:
        return None
    return None


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    at: float

    def take(self, amount: float, now: float) -> float:
        """Take ``amount`` tokens; 0 when done, else the seconds until there would be enough (nothing taken)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= amount:
            self.tokens -= amount
            return 0.0
        return (amount - self.tokens) / self.rate


@dataclass
class PushRateLimiter:
    """Per push source (one token each): a request bucket, taken before the body is read, and a line bucket,
    taken once the lines are counted. A refusal gives the seconds to wait (for ``Retry-After``)."""

    limits: PushRateLimit
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, source: str) -> int | None:
        return self._take(source, "requests", 1, self.limits.requests_per_second, self.limits.request_burst)

    def lines(self, source: str, count: int) -> int | None:
        return self._take(source, "lines", count, self.limits.lines_per_second, self.limits.line_burst)

    def _take(self, source: str, kind: str, amount: int, rate: float, burst: int) -> int | None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault((source, kind), _Bucket(rate, burst, burst, now))
            wait = bucket.take(amount, now)
        return None if wait == 0 else max(1, math.ceil(wait))
