"""OIDC bearer tokens: signature against the identity provider's JWKS (a file, so no network at request
time), issuer, audience and expiry; the result is the username claim."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jwt
from canhgac.core.config import Settings
from canhgac.core.config_incidents import Oidc


class OidcError(Exception):
    pass


@lru_cache(maxsize=8)
def _key_set(path: Path, mtime_ns: int) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))


def key_set(oidc: Oidc, settings: Settings) -> jwt.PyJWKSet:
    path = settings.resolve_path(oidc.jwks_file)
    try:
        return _key_set(path, path.stat().st_mtime_ns)
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise OidcError(f"the JWKS file cannot be used: {exc}") from None


def verify_token(token: str, oidc: Oidc, settings: Settings) -> str:
    try:
        header = jwt.get_unverified_header(token)
        keys = key_set(oidc, settings)
        kid = header.get("kid")
        candidates = [k for k in keys.keys if kid is None or k.key_id == kid]
        if not candidates:
            raise OidcError("unknown signing key")
        claims = jwt.decode(token, candidates[0].key, algorithms=list(oidc.algorithms), audience=oidc.audience,
                            issuer=oidc.issuer, leeway=oidc.leeway_seconds,
                            options={"require": ["exp", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise OidcError(str(exc)) from None
    username = claims.get(oidc.username_claim)
    if not isinstance(username, str) or not username:
        raise OidcError(f"the token has no {oidc.username_claim} claim")
    return username
