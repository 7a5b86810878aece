"""``GET /metrics`` in Prometheus text format, and the middleware that counts every request by route template
(docs/decisions/0049). Outside /api/v1: no API key; a bearer token when ``cluster.metrics.token_env`` names one."""

from __future__ import annotations

import hmac
import os
import time

from canhgac.core.metrics import CONTENT_TYPE, HttpMetrics, add_ingest_totals, exposition, route_label, shared_directory
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"


class RequestMetrics:
    """Outermost: it sees the answers of the request limits and of the error middleware too."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.static: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:  # the router wrote the matched route into the scope it was handed, which is this one
            self.metrics.answered(scope["method"], self._route(scope), status, time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        route = route_label(scope)
        if route == scope["path"]:
            self.static.add(route)  # bounded: the routes without parameters
        elif route == "unmatched" and scope["path"] in self.static:
            return scope["path"]  # answered before routing (a kept list answer) on a path a route answered
        return route


def install_metrics(app: FastAPI, token_env: str | None) -> None:
    """A fresh registry for this app; ``app.state.ingest_totals``, which ``serve`` sets to its pipeline's totals
    in the single process (none in --api-only), is read at each scrape. Under ``serve --workers N`` the request
    counts are those of every process (``core.metrics.share_between_processes``)."""
    app.state.metrics = HttpMetrics(shared=shared_directory())
    app.state.metrics_token = expected_token(token_env)
    app.state.ingest_totals = None
    add_ingest_totals(app.state.metrics.registry, lambda: [] if app.state.ingest_totals is None
                      else [(None, app.state.ingest_totals)])


def expected_token(token_env: str | None) -> str | None:
    """The token /metrics requires; "" (nothing matches) when the variable is named but unset: fail closed."""
    if token_env is None:
        return None
    return os.environ.get(token_env, "")


async def metrics_answer(request: Request) -> Response:
    token: str | None = request.app.state.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "bearer token required for /metrics", headers={"WWW-Authenticate": "Bearer"})
    metrics: HttpMetrics = request.app.state.metrics
    return Response(exposition(metrics.registry), media_type=CONTENT_TYPE)
