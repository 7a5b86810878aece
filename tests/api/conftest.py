"""An API client over the example configuration (plus a soc_admin key and users), the parametrised ``store``
fixture and a frozen clock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from canhgac.api import create_app
from canhgac.core.config import ApiKey, Role, Settings
from canhgac.core.config_incidents import IncidentSettings, User
from canhgac.core.model import Incident, IncidentState, Severity
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from httpx import Response

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, the day after T0
ANALYST = {"X-API-Key": "demo-soc-analyst"}
BINHDINH = {"X-API-Key": "demo-binhdinh"}  # agency_viewer of Bình Định (and below)
QUYNHON = {"X-API-Key": "demo-quynhon"}  # agency_responder of Quy Nhơn (and below)
AUDITOR = {"Authorization": "Bearer demo-auditor"}
ADMIN = {"X-API-Key": "test-admin"}
ROLES = {"soc_admin": ADMIN, "soc_analyst": ANALYST, "agency_responder": QUYNHON, "agency_viewer": BINHDINH,
         "auditor": AUDITOR}


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    admin = ApiKey(name="test-admin", role=Role.soc_admin, sha256=hashlib.sha256(b"test-admin").hexdigest())
    users = [User(name="lan.nguyen", display_name="Nguyễn Thị Lan", role="soc_analyst"),
             User(name="binh.tran", role="agency_responder", agency="quynhon")]
    return settings.model_copy(update={"api_keys": [*settings.api_keys, admin],
                                       "incidents": IncidentSettings(users=users)})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def client(settings: Settings, store: Store, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(settings: Settings, sqlite_store: Store, clock: FrozenClock) -> Iterator[TestClient]:
    """For tests of the HTTP surface itself, which do not depend on the backend."""
    with TestClient(create_app(settings, sqlite_store, clock=clock)) as test_client:
        yield test_client


def make_incident(incident_id: str, agency: str, *, minutes: float = 0, state: IncidentState = IncidentState.new,
                  alert_ids: list[str] | None = None, ip: str = "203.0.113.5") -> Incident:
    seen = T0 + timedelta(minutes=minutes)
    return Incident(id=incident_id, agency=agency, title=f"Dò quét lỗ hổng vào {agency}", severity=Severity.high,
                    state=state, fingerprint=f"web-scan|{agency}|{ip}", rule_id="web-scan",
                    entities={"source.ip": ip}, tags=["attack.t1595"], alert_ids=alert_ids or [],
                    alert_count=len(alert_ids or []), first_seen=seen, last_seen=seen)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def etag(response: Response) -> str:
    return response.headers["etag"]


def open_incident(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Response:
    payload = {"agency": "quynhon", "title": "Lộ dữ liệu hồ sơ một cửa", "severity": "high",
               "system": "cong-quynhon"} | body
    response = client.post("/api/v1/incidents", json=payload, headers=headers or ANALYST)
    assert response.status_code == 201, response.text
    return response
