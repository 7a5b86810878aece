"""The collector's HTTP surface: only the push routes of ``api/routes/ingest.py`` (``/api/v1/ingest`` and the
Elasticsearch-compatible ``/api/v1/ingest/es``), with the same limits, token checks, rate buckets and error
bodies as ``serve``. The collection given delivers an accepted request to the bus and returns once the stream
acknowledged it, so a shipper's 2xx means "on the stream" (docs/decisions/0047)."""

from __future__ import annotations

from typing import Any

from canhgac.api.es_compat import EsErrorBodies
from canhgac.api.headers import SecurityHeaders
from canhgac.api.limits import API_PREFIX, PushRateLimiter, RequestLimits
from canhgac.api.problems import install_problem_handlers
from canhgac.api.routes import ingest
from canhgac.core import VERSION
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import Store
from fastapi import FastAPI
from starlette.types import ASGIApp


class PushApi(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())  # as the API's, outside the error middleware


def create_push_app(settings: Settings, store: Store, collection: Any) -> FastAPI:
    app = PushApi(title="Canh Gác collector", version=VERSION, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.store = store  # RequestLimits authenticates bodies sent elsewhere under /api/v1 (then a 404)
    app.state.directory = Directory(settings)
    app.state.collection = collection
    app.state.push_rate = PushRateLimiter(settings.collection.http.rate_limit)
    install_problem_handlers(app)
    app.add_middleware(RequestLimits)
    app.add_middleware(EsErrorBodies)
    app.include_router(ingest.router, prefix=API_PREFIX)
    return app
