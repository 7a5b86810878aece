"""An API client over the example configuration and the parametrised ``store`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api import create_app
from canhgac.config import Settings
from canhgac.model import Incident, IncidentState, Severity
from storage.base import Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ANALYST = {"X-API-Key": "demo-soc-analyst"}
BINHDINH = {"X-API-Key": "demo-binhdinh"}
QUYNHON = {"X-API-Key": "demo-quynhon"}
AUDITOR = {"Authorization": "Bearer demo-auditor"}


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(settings: Settings, sqlite_store: Store) -> Iterator[TestClient]:
    """For tests of the HTTP surface itself, which do not depend on the backend."""
    with TestClient(create_app(settings, sqlite_store)) as test_client:
        yield test_client


def make_incident(incident_id: str, agency: str, *, minutes: float = 0, state: IncidentState = IncidentState.new,
                  alert_ids: list[str] | None = None, ip: str = "203.0.113.5") -> Incident:
    seen = T0 + timedelta(minutes=minutes)
    return Incident(id=incident_id, agency=agency, title=f"Dò quét lỗ hổng vào {agency}", severity=Severity.high,
                    state=state, fingerprint=f"web-scan|{agency}|{ip}", rule_id="web-scan",
                    entities={"source.ip": ip}, tags=["attack.t1595"], alert_ids=alert_ids or [],
                    alert_count=len(alert_ids or []), first_seen=seen, last_seen=seen)
