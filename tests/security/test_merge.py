"""Finding: merging a VPCP incident into a Quy Nhơn one showed VPCP's attacker address, alert ids and number to
Quy Nhơn. Only incidents of the same agency merge (422 problem+json naming the field, Vietnamese then English),
and ``config check`` refuses a grouping fingerprint without the agency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from canhgac.api import create_app
from canhgac.core.config import EXAMPLE_CONFIG, Settings
from canhgac.core.model import Alert, Severity
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from canhgac.cli import main
from tests.api.conftest import ANALYST, NOW, QUYNHON, FrozenClock, etag, ok

VPCP_ATTACKER = "198.51.100.99"


@pytest.fixture
def world(settings: Settings, sqlite_store: Store) -> Iterator[TestClient]:
    app = create_app(settings, sqlite_store, clock=FrozenClock(NOW))
    alerts = [Alert(id=f"al-{agency}-{n}", rule_id="web-sqli", rule_title="SQLi", severity=Severity.high,
                    agency=agency, system=system, entities={"source.ip": ip}, first_seen=NOW, last_seen=NOW,
                    created=NOW, tags=["attack.t1190"])
              for n, (agency, system, ip) in enumerate((("vpcp", "cdvc", VPCP_ATTACKER),
                                                        ("quynhon", "cong-quynhon", "203.0.113.4"),
                                                        ("quynhon", "cong-quynhon", "203.0.113.5"),
                                                        ("binhdinh", "dvc-binhdinh", "203.0.113.6")))]
    sqlite_store.put_alerts(alerts)
    app.state.incidents.ingest_alerts(alerts)
    with TestClient(app) as client:
        yield client


def _merge(client: TestClient, target: str, source: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    version = etag(client.get(f"/api/v1/incidents/{target}", headers=ANALYST))
    response = client.post(f"/api/v1/incidents/{target}/merge", json={"source_ids": [source]},
                           headers={**ANALYST, "If-Match": version})
    assert response.headers["content-type"].startswith(
        "application/problem+json" if response.status_code >= 400 else "application/json")
    return response.status_code, response.json()


def test_incidents_of_different_agencies_do_not_merge(world: TestClient) -> None:
    refused, problem = _merge(world, "QNN-2026-000001", "VPCP-2026-000001")
    assert refused == 422 and problem["errors"][0]["field"] == "body.source_ids[0]"
    assert "cùng một cơ quan" in problem["detail"] and "same agency" in problem["detail"]
    seen_by_quynhon = world.get("/api/v1/incidents/QNN-2026-000001", headers=QUYNHON).text
    for marker in (VPCP_ATTACKER, "VPCP-2026", "al-vpcp"):
        assert marker not in seen_by_quynhon
    vpcp = ok(world.get("/api/v1/incidents/VPCP-2026-000001", headers=ANALYST))
    assert vpcp["state"] == "new" and vpcp["merged_into"] is None
    # Not across a subtree either: Quy Nhơn is below Bình Định, but it is another agency.
    assert _merge(world, "BDH-2026-000001", "QNN-2026-000001")[0] == 422
    merged_status, merged = _merge(world, "QNN-2026-000001", "QNN-2026-000002")
    assert merged_status == 200 and merged["alert_count"] == 2


def test_config_check_refuses_a_fingerprint_without_the_agency(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert "    fingerprint: [rule, agency, source.ip]" in text
    bad = tmp_path / "canhgac.yaml"
    bad.write_text(text.replace("    fingerprint: [rule, agency, source.ip]", "    fingerprint: [rule, source.ip]"),
                   encoding="utf-8")
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("    fingerprint:"))) + 1
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:{line}: [incidents.grouping.fingerprint]" in err and "agency" in err
