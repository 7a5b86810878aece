"""People and keys: the configured users, and API keys — configured ones (read-only here) and keys issued
through the API (shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Literal

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.bodies import ApiKeyIn
from canhgac.api.deps import ServiceDep, SettingsDep, StoreDep
from canhgac.api.params import ObjectId
from canhgac.api.problems import problem_responses
from canhgac.core.config import Role
from canhgac.core.errors import NotFound
from canhgac.core.model import ApiKeyRecord
from canhgac.incidents.models import InvalidChange
from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["users and API keys"], responses=problem_responses(401, 403, 422, 503))
READERS = (Role.soc_admin, Role.auditor)


class UserOut(BaseModel):
    name: str
    display_name: str
    role: Role
    agency: str | None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    agency: str | None
    source: Literal["configuration", "api"]
    created: datetime | None = None
    created_by: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class IssuedKey(ApiKeyOut):
    key: str  # shown once, never stored


def _out(record: ApiKeyRecord) -> ApiKeyOut:
    return ApiKeyOut(id=record.id, name=record.name, role=Role(record.role), agency=record.agency, source="api",
                     created=record.created, created_by=record.created_by, revoked_at=record.revoked_at,
                     revoked_by=record.revoked_by)


@router.get("/users", response_model=list[UserOut], summary="Configured users (OIDC sign-in, assignees)")
def users(principal: CurrentPrincipal, settings: SettingsDep) -> list[UserOut]:
    principal.require(*READERS, Role.soc_analyst)
    return [UserOut(name=u.name, display_name=u.display_name or u.name, role=Role(u.role), agency=u.agency)
            for u in settings.incidents.users]


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="API keys, without their secrets")
def api_keys(principal: CurrentPrincipal, settings: SettingsDep, store: StoreDep) -> list[ApiKeyOut]:
    principal.require(*READERS)
    configured = [ApiKeyOut(id=f"config:{k.name}", name=k.name, role=k.role, agency=k.agency,
                            source="configuration") for k in settings.api_keys]
    return configured + [_out(r) for r in store.list_api_keys()]


@router.post("/api-keys", response_model=IssuedKey, status_code=201,
             summary="Issue an API key (soc_admin); the key is in this answer only")
def issue_key(body: ApiKeyIn, principal: CurrentPrincipal, service: ServiceDep) -> IssuedKey:
    principal.require(Role.soc_admin)
    if body.agency is not None and body.agency not in service.directory.agencies:
        raise InvalidChange("body.agency", f"unknown agency {body.agency!r}")
    if not body.role.sees_all and body.agency is None:
        raise InvalidChange("body.agency", f"role {body.role.value} needs an agency")
    key = "cg_" + secrets.token_urlsafe(32)
    digest = hashlib.sha256(key.encode()).hexdigest()
    record = ApiKeyRecord(id=f"key-{digest[:12]}", name=body.name, sha256=digest, role=body.role.value,
                          agency=body.agency, created=service.clock(), created_by=principal.name)
    service.store.put_api_key(record)
    service.audit_object("api_key", record.id, record.agency, "issue", principal.name, None,
                         {"name": record.name, "role": record.role, "agency": record.agency})
    return IssuedKey(**_out(record).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, responses=problem_responses(404),
               summary="Revoke an issued API key (soc_admin); configured keys are removed from the file")
def revoke_key(key_id: ObjectId, principal: CurrentPrincipal, service: ServiceDep) -> ApiKeyOut:
    principal.require(Role.soc_admin)
    record = next((r for r in service.store.list_api_keys() if r.id == key_id), None)
    if record is None:
        raise NotFound("no such issued API key")
    if record.revoked_at is None:
        record = record.model_copy(update={"revoked_at": service.clock(), "revoked_by": principal.name})
        service.store.put_api_key(record)
        service.audit_object("api_key", record.id, record.agency, "revoke", principal.name, None,
                             {"revoked_at": record.revoked_at.isoformat() if record.revoked_at else None})
    return _out(record)
