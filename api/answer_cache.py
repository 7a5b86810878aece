"""Whole answers of the incident list, kept per process and served before routing (docs/decisions/0051).

A list answer depends on the caller's scope, the query string, the stored incidents and, through ``overdue``,
on *now*. ``ListAnswers`` keys a kept answer by ``(scope, path, query string)`` and keeps with it the store's
incidents marker read *before* the answer was built (so a write racing the build can only make the kept answer
newer than its marker, never older) and the moment its first row turns overdue. A request is answered from it
only when the caller authenticates as the route would (same function, same headers), the marker read now is the
same and that moment has not come: everything else — a bad key, a bad parameter, a store without a marker
(Elasticsearch) — goes through the route as before. Every 200 carries an ETag over headers and body;
``If-None-Match`` with it gets a 304."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from canhgac.api.auth import Principal, authenticate
from canhgac.api.deps import read_store
from canhgac.api.limits import API_PREFIX
from canhgac.core.errors import StoreUnavailable
from canhgac.storage.base import Store
from fastapi import FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Routes that say, per answer, until when it may be kept (``keep_until``).
CACHED_PATHS = frozenset({API_PREFIX + "/incidents"})
#: What a route puts in the request's scope: the moment its answer stops being true (None: only a write changes it).
KEEP_UNTIL = "canhgac.keep_until"
MAX_ENTRIES = 1024
MAX_BYTES = 32 << 20
#: Headers a 304 leaves out: it has no body.
_BODY_HEADERS = frozenset({b"content-length", b"content-type"})
AnswerKey = tuple[frozenset[str] | None, str, bytes]


def keep_until(request: Request, moment: datetime | None) -> None:
    """Let ``ListAnswers`` keep this 200 answer until ``moment`` or the next change to an incident."""
    request.scope[KEEP_UNTIL] = moment


@dataclass(frozen=True)
class Answer:
    marker: int
    valid_until: datetime | None
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    etag: bytes

    @property
    def cost(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class AnswerCache:
    """Least recently used first out, bounded in entries and in bytes. Used from the event loop only."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._answers: OrderedDict[AnswerKey, Answer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: AnswerKey, marker: int, now: datetime) -> Answer | None:
        found = self._answers.get(key)
        if found is None or found.marker != marker or (found.valid_until is not None and now >= found.valid_until):
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: AnswerKey, answer: Answer) -> None:
        if answer.cost > self.max_bytes // 16:
            return
        old = self._answers.pop(key, None)
        if old is not None:
            self.bytes -= old.cost
        self._answers[key] = answer
        self.bytes += answer.cost
        while len(self._answers) > self.max_entries or self.bytes > self.max_bytes:
            _, dropped = self._answers.popitem(last=False)
            self.bytes -= dropped.cost


class ListAnswers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in CACHED_PATHS:
            await self.app(scope, receive, send)
            return
        application: FastAPI = scope["app"]
        state = application.state
        headers = Headers(scope=scope)
        try:
            principal = await _principal(application, headers)
            marker = await _marker(state.store)
        except (HTTPException, StoreUnavailable):  # the route answers it, as it would without this layer
            await self.app(scope, receive, send)
            return
        cache: AnswerCache = state.answer_cache
        key = (principal.scope, scope["path"], scope["query_string"])
        found = None if marker is None else cache.get(key, marker, state.incidents.clock())
        if found is not None:
            await _send(send, found.headers, found.body, found.etag, headers.get("if-none-match"))
            return
        await self.app(scope, receive, _Capture(scope, send, key, marker, cache, headers.get("if-none-match")))


class _Capture:
    """Holds a 200 until its body is complete, to give it an ETag (or a 304) and keep it if the route allowed."""

    def __init__(self, scope: Scope, send: Send, key: AnswerKey, marker: int | None, cache: AnswerCache,
                 if_none_match: str | None) -> None:
        self.scope, self.send, self.key, self.marker, self.cache = scope, send, key, marker, cache
        self.if_none_match = if_none_match
        self.start: Message | None = None
        self.passing = False
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        if message["type"] == "http.response.start":
            if message["status"] != 200:
                self.passing = True
                await self.send(message)
                return
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self.chunks)
        headers = tuple((k.lower(), v) for k, v in self.start.get("headers", []) if k.lower() != b"etag")
        etag = _etag(headers, body)
        if self.marker is not None and KEEP_UNTIL in self.scope:
            self.cache.put(self.key, Answer(self.marker, self.scope[KEEP_UNTIL], headers, body, etag))
        await _send(self.send, headers, body, etag, self.if_none_match)


async def _principal(app: FastAPI, headers: Headers) -> Principal:
    """The caller, authenticated as the route does it (``X-API-Key`` first, else a bearer key or token)."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    bearer = (HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials.strip())
              if scheme.lower() == "bearer" and credentials.strip() else None)
    state = app.state
    return await authenticate(settings=state.settings, directory=state.directory, store=state.store,
                              header_key=headers.get("x-api-key") or None, bearer=bearer)


async def _marker(store: Store) -> int | None:
    if type(store).incidents_marker is Store.incidents_marker:  # keeps none: no thread hop to learn it
        return None
    return await read_store(store, store.incidents_marker)


def _etag(headers: tuple[tuple[bytes, bytes], ...], body: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=12)
    for name, value in headers:
        if name not in _BODY_HEADERS:
            digest.update(name + b":" + value + b"\n")
    digest.update(body)
    return b'W/"' + digest.hexdigest().encode() + b'"'


def _matches(if_none_match: str, etag: bytes) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = etag.decode().removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


async def _send(send: Send, headers: tuple[tuple[bytes, bytes], ...], body: bytes, etag: bytes,
                if_none_match: str | None) -> None:
    if if_none_match is not None and _matches(if_none_match, etag):
        kept = [(k, v) for k, v in headers if k not in _BODY_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": [*kept, (b"etag", etag)]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"etag", etag)]})
    await send({"type": "http.response.body", "body": body})
