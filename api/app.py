"""``create_app``: everything is built from the arguments, nothing at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from canhgac.api.answer_cache import AnswerCache, ListAnswers
from canhgac.api.es_compat import EsErrorBodies
from canhgac.api.headers import SecurityHeaders
from canhgac.api.limits import API_PREFIX, PushRateLimiter, RequestLimits
from canhgac.api.metrics import METRICS_PATH, RequestMetrics, install_metrics, metrics_answer
from canhgac.api.params import times_within_calendar
from canhgac.api.problems import install_problem_handlers
from canhgac.api.relay import IngestRelay
from canhgac.api.routes import (
    admin,
    alerts,
    audit,
    events,
    health,
    incident_actions,
    incidents,
    ingest,
    overview,
    posture,
    reports,
    rules,
    slack,
    sources,
    suppressions,
)
from canhgac.api.routes import directory as directory_routes
from canhgac.api.summary_cache import SummaryCache
from canhgac.core import VERSION
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import utcnow
from canhgac.dashboards import WEB_DIR
from canhgac.incidents.service import IncidentService
from canhgac.notifications.chat import change_observer
from canhgac.storage.base import Store
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

#: Routers under /api/v1, in the order the OpenAPI document lists them; add new domains here.
ROUTERS = [health.router, directory_routes.router, incidents.router, incident_actions.router, alerts.router,
           events.router, overview.router, posture.router, reports.router, suppressions.router, rules.router,
           audit.router, admin.router, sources.router, ingest.router, slack.router]


class CanhGacApi(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, so that an unexpected 500 carries the headers too.
        return RequestMetrics(SecurityHeaders(super().build_middleware_stack()), self.state.metrics)


def create_app(settings: Settings, store: Store, *, directory: Directory | None = None,
               clock: Callable[[], datetime] = utcnow, ingest_relay_port: int | None = None) -> FastAPI:
    """``ingest_relay_port``: in an API-only worker, the loopback port of the process that collects (relay.py)."""
    app = CanhGacApi(
        title="Canh Gác",
        version=VERSION,
        description="Security operations centre for Vietnam's e-government. Errors are problem details "
                    "(RFC 9457); every list is limited to the caller's agency subtree.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The bundled docs pages load their scripts from a CDN, which SOC networks often cannot reach.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(times_within_calendar)],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.directory = directory if directory is not None else Directory(settings)
    app.state.incidents = IncidentService(store, app.state.directory, clock=clock)
    app.state.incidents.observers.append(change_observer(store, settings, app.state.directory))  # chat threads
    app.state.push_rate = PushRateLimiter(settings.collection.http.rate_limit)
    app.state.summary_cache = SummaryCache()  # per process; keyed by incident version, so workers agree
    app.state.answer_cache = AnswerCache()  # whole list answers, checked against the store's incidents marker
    install_metrics(app, settings.cluster.metrics.token_env)  # per app: two apps in one process count apart
    install_problem_handlers(app)
    app.add_middleware(ListAnswers)  # innermost: a kept answer still passes the limits and security headers
    if ingest_relay_port is not None:
        app.add_middleware(IngestRelay, port=ingest_relay_port)  # added first, so inside RequestLimits
    app.add_middleware(RequestLimits)
    app.add_middleware(EsErrorBodies)  # outside the limits: ES clients read only ES error bodies (es_compat)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.mount("/assets", StaticFiles(directory=WEB_DIR), name="assets")
    app.add_api_route("/", _index, include_in_schema=False)
    app.add_api_route(METRICS_PATH, metrics_answer, include_in_schema=False)
    return app


def _index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")
