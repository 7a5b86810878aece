"""``GET /metrics``: requests counted by route template and status, the single process's ingest totals, and the
optional bearer token (docs/decisions/0049)."""

from __future__ import annotations

import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.core.config_cluster import MetricsSettings
from canhgac.storage.base import Store
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from canhgac.runtime import PipelineTotals
from tests.api.conftest import ANALYST


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def requests(samples: dict, route: str, status: str, method: str = "GET") -> float:  # type: ignore[type-arg]
    key = ("canhgac_http_requests_total", (("method", method), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_template_and_status(sqlite_client: TestClient) -> None:
    for _ in range(3):
        assert sqlite_client.get("/api/v1/incidents", headers=ANALYST).status_code == 200
    assert sqlite_client.get("/api/v1/incidents/INC-nope-1", headers=ANALYST).status_code == 404
    assert sqlite_client.get("/api/v1/incidents/INC-nope-2", headers=ANALYST).status_code == 404
    assert sqlite_client.get("/api/v1/incidents").status_code == 401
    assert sqlite_client.get("/no/such/page/42").status_code == 404
    samples = scrape(sqlite_client)
    assert requests(samples, "/api/v1/incidents", "200") == 3
    assert requests(samples, "/api/v1/incidents", "401") == 1
    assert requests(samples, "/api/v1/incidents/{incident_id}", "404") == 2  # the template, not each id
    assert requests(samples, "unmatched", "404") == 1
    assert not any("INC-nope" in str(labels) or "/no/such" in str(labels) for _, labels in samples)
    histogram = ("canhgac_http_request_duration_seconds_count",
                 (("method", "GET"), ("route", "/api/v1/incidents")))
    assert samples[histogram] == 4
    assert ("process_cpu_seconds_total", ()) in samples  # the process's own, from prometheus-client
    # the scrape itself is counted, on the next one
    assert requests(scrape(sqlite_client), "/metrics", "200") == 1


def test_each_app_counts_its_own_requests(settings: Settings, sqlite_store: Store) -> None:
    with TestClient(create_app(settings, sqlite_store)) as first:
        first.get("/api/v1/incidents", headers=ANALYST)
    with TestClient(create_app(settings, sqlite_store)) as second:
        assert requests(scrape(second), "/api/v1/incidents", "200") == 0


def test_the_single_process_shows_its_ingest_totals(settings: Settings, sqlite_store: Store) -> None:
    app = create_app(settings, sqlite_store)
    totals = PipelineTotals(events_stored=120, dead_letters=3, alerts=4, incidents_created=2, incidents_updated=5)
    app.state.ingest_totals = totals
    with TestClient(app) as client:
        samples = scrape(client)
        assert samples[("canhgac_events_stored_total", ())] == 120
        assert samples[("canhgac_incidents_total", (("change", "opened"),))] == 2
        totals.events_stored += 30  # read when scraped: the next scrape sees the pipeline's new figure
        assert scrape(client)[("canhgac_events_stored_total", ())] == 150


def test_a_configured_token_is_required(settings: Settings, sqlite_store: Store,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_TEST_METRICS_TOKEN", "s3cret-scraper")
    cluster = settings.cluster.model_copy(update={"metrics": MetricsSettings(token_env="CANHGAC_TEST_METRICS_TOKEN")})
    with TestClient(create_app(settings.model_copy(update={"cluster": cluster}), sqlite_store)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert "canhgac_http_requests_total" in client.get(
            "/metrics", headers={"Authorization": "Bearer s3cret-scraper"}).text
    monkeypatch.delenv("CANHGAC_TEST_METRICS_TOKEN")
    with TestClient(create_app(settings.model_copy(update={"cluster": cluster}), sqlite_store)) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401  # unset: closed
