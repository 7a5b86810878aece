"""OIDC bearer tokens verified against a JWKS file and mapped to configured users."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.core.config_incidents import IncidentSettings, Oidc
from canhgac.storage.base import Store
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://sso.example.gov.vn/realms/soc"


@pytest.fixture
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def oidc_client(settings: Settings, sqlite_store: Store, tmp_path: Path,
                key: rsa.RSAPrivateKey) -> Iterator[TestClient]:
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    incidents = IncidentSettings(users=settings.incidents.users, oidc=Oidc(
        jwks_file=str(tmp_path / "jwks.json"), issuer=ISSUER, audience="canhgac"))
    with TestClient(create_app(settings.model_copy(update={"incidents": incidents}), sqlite_store)) as client:
        yield client


def token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    kid = claims.pop("kid", "k1")
    body = {"iss": ISSUER, "aud": "canhgac", "exp": now + 300, "iat": now, "preferred_username": "binh.tran"}
    return jwt.encode({**body, **claims}, key, algorithm="RS256", headers={"kid": kid})


def test_a_valid_token_maps_to_the_configured_user(oidc_client: TestClient, key: rsa.RSAPrivateKey) -> None:
    me = oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key)}"}).json()
    assert (me["name"], me["role"], me["agency"]) == ("binh.tran", "agency_responder", "quynhon")
    assert "phuyen" not in me["scope"]
    lan = token(key, preferred_username="lan.nguyen")
    analyst = oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {lan}"})
    assert analyst.json()["role"] == "soc_analyst"


@pytest.mark.parametrize("claims", [{"aud": "other"}, {"iss": "https://evil.example"}, {"exp": 1},
                                    {"preferred_username": "stranger"}, {"kid": "k2"}])
def test_bad_tokens_are_401(oidc_client: TestClient, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> None:
    response = oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key, **claims)}"})
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"


def test_a_token_signed_by_another_key_is_401(oidc_client: TestClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(other)}"})
    assert response.status_code == 401


def test_api_keys_still_work_beside_oidc(oidc_client: TestClient) -> None:
    assert oidc_client.get("/api/v1/me", headers={"X-API-Key": "demo-quynhon"}).json()["role"] == "agency_responder"
