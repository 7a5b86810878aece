"""Who is calling: an API key (``X-API-Key`` or ``Authorization: Bearer``) checked against its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import DirectoryDep, SettingsDep
from canhgac.config import ApiKey, Role
from canhgac.directory import Directory

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    agency: str | None
    #: The agencies the caller may see; None for roles that see every agency.
    scope: frozenset[str] | None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="canhgac"'})


def authenticate(settings: SettingsDep, directory: DirectoryDep,
                 header_key: Annotated[str | None, Depends(_api_key_header)],
                 bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    presented = header_key or (bearer.credentials if bearer is not None else None)
    if not presented:
        raise _unauthorized("an API key is required (X-API-Key header or Authorization: Bearer)")
    digest = hashlib.sha256(presented.encode()).hexdigest()
    match = None
    for key in settings.api_keys:  # no early exit: every key costs the same comparison
        if hmac.compare_digest(digest, key.sha256) and match is None:
            match = key
    if match is None:
        raise _unauthorized("the API key is not valid")
    return Principal(name=match.name, role=match.role, agency=match.agency, scope=_scope_of(match, directory))


def _scope_of(key: ApiKey, directory: Directory) -> frozenset[str] | None:
    if key.role.sees_all:
        return None
    # Fail closed: an agency role without an agency (the configuration forbids it) sees nothing.
    return directory.subtree(key.agency) if key.agency else frozenset()


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
