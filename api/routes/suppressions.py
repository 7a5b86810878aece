"""Suppressions: alerts of a rule × agency subtree × entity values open no incident until expiry."""

from __future__ import annotations

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.bodies import SuppressionIn
from canhgac.api.deps import ServiceDep, StoreDep
from canhgac.api.params import ObjectId
from canhgac.api.problems import problem_responses
from canhgac.core.config import Role
from canhgac.core.errors import NotFound
from canhgac.core.model import Suppression
from canhgac.incidents.operations import create_suppression, revoke_suppression
from fastapi import APIRouter

router = APIRouter(tags=["suppressions"], responses=problem_responses(401, 422, 503))
EDITORS = (Role.soc_admin, Role.soc_analyst)


@router.get("/suppressions", response_model=list[Suppression],
            summary="Suppressions of the agencies in the caller's scope, expired and revoked ones included")
def list_suppressions(principal: CurrentPrincipal, store: StoreDep) -> list[Suppression]:
    return store.list_suppressions(agencies=principal.scope)


@router.get("/suppressions/{suppression_id}", response_model=Suppression, responses=problem_responses(404))
def get_suppression(suppression_id: ObjectId, principal: CurrentPrincipal, store: StoreDep) -> Suppression:
    found = store.get_suppression(suppression_id, agencies=principal.scope)
    if found is None:
        raise NotFound("no such suppression")
    return found


@router.post("/suppressions", response_model=Suppression, status_code=201, responses=problem_responses(403),
             summary="Suppress alerts until a time, with a reason (SOC roles); audited")
def add_suppression(body: SuppressionIn, principal: CurrentPrincipal, service: ServiceDep) -> Suppression:
    principal.require(*EDITORS)
    return create_suppression(service, actor=principal.name, rule_id=body.rule_id, agency=body.agency,
                              entities=body.entities, reason=body.reason, expires=body.expires)


@router.delete("/suppressions/{suppression_id}", response_model=Suppression,
               responses=problem_responses(403, 404), summary="Revoke a suppression (it stays listed); audited")
def delete_suppression(suppression_id: ObjectId, principal: CurrentPrincipal, service: ServiceDep) -> Suppression:
    principal.require(*EDITORS)
    return revoke_suppression(service, suppression_id, scope=principal.scope, actor=principal.name)
