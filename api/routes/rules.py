"""The detection rules loaded from the configured rule folders (the same set the pipeline uses)."""

from __future__ import annotations

import threading

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.problems import problem_responses
from canhgac.core.config import Settings
from canhgac.core.model import Severity
from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(tags=["rules"], responses=problem_responses(401, 503))
_lock = threading.Lock()


class RuleOut(BaseModel):
    id: str
    title: str
    severity: Severity
    tags: list[str]
    description: str
    status: str | None
    logsource: str


def _load(settings: Settings) -> list[RuleOut]:
    from canhgac.detectors.sigma import builtin_rules_dir, load_rules

    paths = [builtin_rules_dir()] if settings.detection.builtin_rules else []
    paths += [settings.resolve_path(p) for p in settings.detection.rule_dirs]
    loaded = load_rules(paths)
    return sorted((RuleOut(id=r.id, title=r.title, severity=r.severity, tags=list(r.tags),
                           description=r.description, status=r.status, logsource=str(r.logsource))
                   for r in loaded.rules), key=lambda r: r.id)


@router.get("/rules", response_model=list[RuleOut], summary="Loaded detection rules (luật phát hiện)")
def rules(request: Request, _: CurrentPrincipal) -> list[RuleOut]:
    with _lock:
        cached = getattr(request.app.state, "rules", None)
        if cached is None:
            cached = request.app.state.rules = _load(request.app.state.settings)
    return cached
