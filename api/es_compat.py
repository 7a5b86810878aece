"""What makes ``/api/v1/ingest/es`` look like an Elasticsearch cluster to its clients, apart from ``_bulk``:
its error body, and templates and lifecycle policies that a shipper installs and later checks for.

Elasticsearch answers every error with ``{"error": {"root_cause": [...], "type", "reason"}, "status"}`` as
``application/json``; the official clients decode nothing else (a problem+json answer is their
``SerializationError: Unknown mimetype``). ``EsErrorBodies`` rewrites, under the prefix only, whatever
problem document the rest of the application answers (a 404, a 405, a 413 from the request limits, a 500)
into that shape, so that no route can forget it.

Templates and policies change nothing here (Canh Gác keeps its own mappings and retention). They are kept in
memory per process so that a HEAD after a PUT answers 200, as a cluster would; after a restart a shipper
finds them missing and installs them again, which is what it does against a new cluster.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson
from canhgac.api.limits import INGEST_PREFIX
from canhgac.api.problems import PROBLEM_JSON
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ES_PREFIX = "/ingest/es"
ES_PATH = INGEST_PREFIX + "/es"
ES_HEADERS = {"X-Elastic-Product": "Elasticsearch"}
MAX_TEMPLATES = 256  # per kind; a client cannot grow the process without bound
#: The Elasticsearch error type of an HTTP status, for errors that did not name one.
ERROR_TYPES = {400: "illegal_argument_exception", 401: "security_exception", 403: "security_exception",
               404: "resource_not_found_exception", 405: "illegal_argument_exception",
               413: "content_too_long_exception", 415: "illegal_argument_exception",
               422: "illegal_argument_exception", 429: "es_rejected_execution_exception",
               503: "unavailable_shards_exception"}


def es_error_body(status: int, kind: str | None, reason: str) -> dict[str, Any]:
    kind = kind or ERROR_TYPES.get(status, "exception")
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def es_error(status: int, kind: str | None, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(es_error_body(status, kind, reason), status_code=status,
                        headers={**ES_HEADERS, **(headers or {})})


def under_es_prefix(path: str) -> bool:
    return path == ES_PATH or path.startswith(ES_PATH + "/")


class EsErrorBodies:
    """ASGI middleware: under the ES-compatible prefix, a problem document becomes Elasticsearch's error body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under_es_prefix(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def translating(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                if content_type.split(b";")[0].strip().decode() != PROBLEM_JSON:
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_translated(start, b"".join(chunks), send)

        await self.app(scope, receive, translating)

    @staticmethod
    async def _send_translated(start: Message, body: bytes, send: Send) -> None:
        status = start["status"]
        try:
            problem = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            problem = {}
        error = problem.get("error") if isinstance(problem.get("error"), dict) else {}
        reason = error.get("reason") or problem.get("detail") or problem.get("title") or str(status)
        translated = orjson.dumps(es_error_body(status, error.get("type"), str(reason)))
        headers = [(name, value) for name, value in start.get("headers", ())
                   if name.lower() not in (b"content-type", b"content-length", b"x-elastic-product")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(translated)).encode()),
                    (b"x-elastic-product", b"Elasticsearch")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": translated})


class Templates:
    """Index templates, legacy templates, component templates and ILM policies, by kind and name."""

    KINDS = ("_index_template", "_template", "_component_template", "_ilm/policy")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, OrderedDict[str, Any]] = {kind: OrderedDict() for kind in self.KINDS}

    def put(self, kind: str, name: str, body: Any) -> None:
        with self._lock:
            kept = self._kept[kind]
            kept[name] = body
            kept.move_to_end(name)
            while len(kept) > MAX_TEMPLATES:
                kept.popitem(last=False)

    def get(self, kind: str, name: str) -> Any | None:
        with self._lock:
            return self._kept[kind].get(name)

    def delete(self, kind: str, name: str) -> bool:
        with self._lock:
            return self._kept[kind].pop(name, None) is not None

    @staticmethod
    def answer(kind: str, name: str, body: Any) -> dict[str, Any]:
        """The GET answer of a cluster holding ``body`` under ``name``."""
        if kind == "_index_template":
            return {"index_templates": [{"name": name, "index_template": body}]}
        if kind == "_component_template":
            return {"component_templates": [{"name": name, "component_template": body}]}
        if kind == "_ilm/policy":
            policy = body.get("policy", body) if isinstance(body, dict) else body
            return {name: {"version": 1, "modified_date": "2026-01-01T00:00:00.000Z", "policy": policy}}
        return {name: body}

    @staticmethod
    def missing(kind: str, name: str) -> tuple[str, str]:
        if kind == "_ilm/policy":
            return "resource_not_found_exception", f"Lifecycle policy not found: {name}"
        return "resource_not_found_exception", f"index template matching [{name}] not found"
