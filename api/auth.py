"""Who is calling: an API key (``X-API-Key`` or ``Authorization: Bearer``) checked against its SHA-256 — from
the configuration or issued through the API — or, when configured, an OIDC bearer token (a JWT) verified
against the identity provider's JWKS file and mapped to a configured user."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from canhgac.api.deps import DirectoryDep, SettingsDep, StoreDep
from canhgac.api.oidc import OidcError, verify_token
from canhgac.core.config import Role, Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import Store
from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")
_bearer = HTTPBearer(auto_error=False, description="The API key, or an OIDC access token, as a bearer token")
WRITERS = frozenset({Role.soc_admin, Role.soc_analyst, Role.agency_responder})
#: Who may change what an agency's compliance record is measured from (detection time, serious flag, back-dated
#: filings): the SOC, never the agency being measured.
SOC_ROLES = frozenset({Role.soc_admin, Role.soc_analyst})


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    agency: str | None
    #: The agencies the caller may see; None for roles that see every agency.
    scope: frozenset[str] | None

    @property
    def can_write_incidents(self) -> bool:
        return self.role in WRITERS

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise HTTPException(403, f"the role {self.role.value} may not do this")

    def require_soc(self, field: str, what_vi: str, what_en: str) -> None:
        """403 naming ``field`` unless the caller is the SOC."""
        if self.role not in SOC_ROLES:
            raise HTTPException(403, f"{field}: chỉ SOC (soc_admin, soc_analyst) được {what_vi} — only the SOC "
                                     f"may {what_en}; the role {self.role.value} may not")

    def writable_scope(self) -> frozenset[str] | None:
        """The agencies whose incidents the caller may change (403 for read-only roles)."""
        if not self.can_write_incidents:
            raise HTTPException(403, f"the role {self.role.value} is read-only")
        return self.scope


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="canhgac"'})


def _principal(name: str, role: Role, agency: str | None, directory: Directory) -> Principal:
    if role.sees_all:
        scope = None
    else:
        # Fail closed: an agency role without a known agency sees nothing.
        scope = directory.subtree(agency) if agency and agency in directory.agencies else frozenset()
    return Principal(name=name, role=role, agency=agency, scope=scope)


def principal_for(name: str, role: Role, agency: str | None, directory: Directory) -> Principal:
    """A configured person's principal (e.g. a Slack member mapped to a user): the same scope rule as a key's."""
    return _principal(name, role, agency, directory)


def configured_principal(presented: str, settings: Settings, directory: Directory) -> Principal | None:
    digest = hashlib.sha256(presented.encode()).hexdigest()
    match = None
    for key in settings.api_keys:  # no early exit: every key costs the same comparison
        if hmac.compare_digest(digest, key.sha256) and match is None:
            match = key
    return None if match is None else _principal(match.name, match.role, match.agency, directory)


def issued_principal(presented: str, store: Store, directory: Directory) -> Principal | None:
    digest = hashlib.sha256(presented.encode()).hexdigest()
    issued = store.find_api_key(digest)
    if issued is None or issued.revoked_at is not None or not hmac.compare_digest(digest, issued.sha256):
        return None
    return _principal(issued.name, Role(issued.role), issued.agency, directory)


async def authenticate(settings: SettingsDep, directory: DirectoryDep, store: StoreDep,
                       header_key: Annotated[str | None, Depends(_api_key_header)],
                       bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    presented = header_key or (bearer.credentials if bearer is not None else None)
    if not presented:
        raise _unauthorized("an API key is required (X-API-Key header or Authorization: Bearer)")
    oidc = settings.incidents.oidc
    if header_key is None and oidc is not None and presented.count(".") == 2:
        try:
            username = verify_token(presented, oidc, settings)
        except OidcError as exc:
            raise _unauthorized(f"the token is not valid: {exc}") from None
        user = next((u for u in settings.incidents.users if u.name == username), None)
        if user is None:
            raise _unauthorized("the token's user is not a Canh Gác user")
        return _principal(user.name, Role(user.role), user.agency, directory)
    principal = configured_principal(presented, settings, directory)
    if principal is None:  # keys issued through the API live in the store: look there off the event loop
        principal = await run_in_threadpool(issued_principal, presented, store, directory)
    if principal is None:
        raise _unauthorized("the API key is not valid")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
