"""The detection rules loaded from the configured rule folders (the same set the pipeline uses), and the
MITRE ATT&CK names shipped with Canh Gác."""

from __future__ import annotations

from typing import Annotated

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.problems import problem_responses
from canhgac.api.rule_catalog import RuleOut, rule_catalog
from canhgac.core.attack import attack_data
from canhgac.core.errors import NotFound
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

router = APIRouter(tags=["rules"], responses=problem_responses(401, 503))
RuleId = Annotated[str, Path(min_length=1, max_length=200)]


class AttackOut(BaseModel):
    version: str = Field(description="The ATT&CK release, e.g. ATT&CK v18.1 (enterprise)")
    techniques: dict[str, str] = Field(description="Technique id → name (sub-techniques as Parent: Sub)")
    tactics: dict[str, str] = Field(description="Tactic shortname → name")


@router.get("/rules", response_model=list[RuleOut],
            summary="Loaded detection rules (luật phát hiện), correlations and the anomaly model, with ATT&CK names")
def rules(request: Request, _: CurrentPrincipal) -> list[RuleOut]:
    return list(rule_catalog(request).values())


@router.get("/rules/{rule_id}", response_model=RuleOut, responses=problem_responses(404, 422),
            summary="One rule: description, false positives, response guide, ATT&CK techniques and tactics")
def rule(rule_id: RuleId, request: Request, _: CurrentPrincipal) -> RuleOut:
    found = rule_catalog(request).get(rule_id)
    if found is None:
        raise NotFound(f"no rule {rule_id!r} is loaded")
    return found


@router.get("/attack", response_model=AttackOut,
            summary="MITRE ATT&CK technique and tactic names shipped with Canh Gác (no network needed)")
def attack(_: CurrentPrincipal) -> AttackOut:
    data = attack_data()
    return AttackOut(version=data.version, techniques=data.techniques, tactics=data.tactics)
