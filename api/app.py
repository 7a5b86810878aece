"""``create_app``: everything is built from the arguments, nothing at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from canhgac.api.headers import SecurityHeaders
from canhgac.api.problems import install_problem_handlers
from canhgac.api.routes import (
    admin,
    alerts,
    audit,
    events,
    health,
    incident_actions,
    incidents,
    ingest,
    posture,
    reports,
    rules,
    sources,
    suppressions,
)
from canhgac.api.routes import directory as directory_routes
from canhgac.core import VERSION
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import utcnow
from canhgac.dashboards import WEB_DIR
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import Store
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

API_PREFIX = "/api/v1"
#: Routers under /api/v1, in the order the OpenAPI document lists them; add new domains here.
ROUTERS = [health.router, directory_routes.router, incidents.router, incident_actions.router, alerts.router,
           events.router, posture.router, reports.router, suppressions.router, rules.router, audit.router,
           admin.router, sources.router, ingest.router]


def create_app(settings: Settings, store: Store, *, directory: Directory | None = None,
               clock: Callable[[], datetime] = utcnow) -> FastAPI:
    app = FastAPI(
        title="Canh Gác",
        version=VERSION,
        description="Security operations centre for Vietnam's e-government. Errors are problem details "
                    "(RFC 9457); every list is limited to the caller's agency subtree.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The bundled docs pages load their scripts from a CDN, which SOC networks often cannot reach.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.directory = directory if directory is not None else Directory(settings)
    app.state.incidents = IncidentService(store, app.state.directory, clock=clock)
    install_problem_handlers(app)
    app.add_middleware(SecurityHeaders)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.mount("/assets", StaticFiles(directory=WEB_DIR), name="assets")
    app.add_api_route("/", _index, include_in_schema=False)
    return app


def _index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")
