"""HTTP push: ``POST /api/v1/ingest`` and the Elasticsearch ``_bulk`` endpoint, fed requests in the exact
shape Fluent Bit (es output), Vector (elasticsearch sink) and Logstash (elasticsearch output) send."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from canhgac.api.app import create_app
from canhgac.collectors.service import Collection
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import EventQuery, Store
from fastapi.testclient import TestClient

from tests.collectors import fixtures as fx
from tests.collectors.support import FlakyStore

TOKEN = "day-la-ma-day-du-lieu-cua-cong-dvc"
GATEWAY_TOKEN = "ma-lgsp-binh-dinh"


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    data = settings.model_dump(mode="json")
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    data["systems"][2]["log_sources"].append({"type": "http", "name": "fluent-dvc", "format": "nginx",
                                              "token_sha256": digest})
    data["systems"][5]["log_sources"].append({"type": "http", "name": "lgsp-audit", "format": "gateway",
                                              "token_sha256": hashlib.sha256(GATEWAY_TOKEN.encode()).hexdigest()})
    return Settings.model_validate(data)


@pytest.fixture
def client(push_settings: Settings, sqlite_store: Store, home: Path) -> Iterator[TestClient]:
    collection = Collection(push_settings, Directory(push_settings), sqlite_store,
                            lambda e, d: (sqlite_store.put_events(e), sqlite_store.put_dead_letters(d)))
    app = create_app(push_settings, sqlite_store)
    app.state.collection = collection
    with TestClient(app) as test_client:
        yield test_client


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"fluentbit:{token}".encode()).decode()}


def fluent_bit_bulk() -> bytes:
    """Fluent Bit 3.x ``[OUTPUT] Name es, Suppress_Type_Name On, Compress gzip`` from a tail input without a parser."""
    lines = []
    for stamp, line in (("2026-11-22T08:04:05.120Z", fx.NGINX_COMBINED), ("2026-11-22T08:04:06.000Z", "garbage"),
                        ("2026-11-22T08:04:07.000Z", fx.NGINX_TIMINGS)):
        lines.append(orjson.dumps({"create": {"_index": "fluent-bit"}}))
        lines.append(orjson.dumps({"@timestamp": stamp, "log": line}))
    return b"\n".join(lines) + b"\n"


def test_fluent_bit_bulk_with_gzip_and_basic_auth(client: TestClient, sqlite_store: Store) -> None:
    body = gzip.compress(fluent_bit_bulk())
    headers = {**basic(TOKEN), "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip",
               "User-Agent": "Fluent-Bit"}
    response = client.post("/api/v1/ingest/es/_bulk", content=body, headers=headers)
    assert response.status_code == 200 and response.headers["x-elastic-product"] == "Elasticsearch"
    result = response.json()
    # The garbage line became a dead letter: its item says so, as Elasticsearch does for a mapping error.
    assert result["errors"] is True and [i["create"]["status"] for i in result["items"]] == [201, 400, 201]
    assert result["items"][1]["create"]["error"]["type"] == "document_parsing_exception"
    events = sqlite_store.search_events(EventQuery(limit=10))
    assert len(events) == 2 and {e["service.id"] for e in events} == {"dvc-binhdinh"}
    assert {e["log.file.path"] for e in events} == {"http:fluent-dvc"}
    assert sqlite_store.search_dead_letters()[0].raw == "garbage"
    again = client.post("/api/v1/ingest/es/_bulk", content=body, headers=headers)  # Fluent Bit retries a chunk
    assert again.status_code == 200 and sqlite_store.count_events(EventQuery()) == 2


def test_vector_elasticsearch_sink(client: TestClient, sqlite_store: Store) -> None:
    """Vector 0.4x ``type = "elasticsearch"``, ``mode = "bulk"``, ``auth.strategy = "basic"``, file source."""
    headers = basic(TOKEN)
    assert client.get("/api/v1/ingest/es/", headers=headers).json()["version"]["number"].startswith("8.")
    assert client.get("/api/v1/ingest/es/_cluster/health", headers=headers).json()["status"] == "green"
    body = b"".join(orjson.dumps(part) + b"\n" for part in (
        {"index": {"_index": "vector-2026.11.22"}},
        {"file": "/var/log/nginx/access.log", "host": "dvc-web01", "message": fx.APACHE_VHOST,
         "source_type": "file", "timestamp": "2026-11-22T08:04:09.532Z"}))
    response = client.post("/api/v1/ingest/es/vector-2026.11.22/_bulk", content=body,
                           headers={**headers, "Content-Type": "application/x-ndjson"})
    assert response.json()["items"][0]["index"]["status"] == 201
    [event] = sqlite_store.search_events(EventQuery(limit=10))
    assert event["url.domain"] == "motcua.binhdinh.gov.vn" and event["organization.id"] == "binhdinh"


def test_logstash_elasticsearch_output_with_api_key(client: TestClient, sqlite_store: Store) -> None:
    """Logstash 8 ``elasticsearch { api_key => "id:key" }``: probes ``/``, installs a template, then bulk."""
    headers = {"Authorization": "ApiKey " + base64.b64encode(f"logstash:{GATEWAY_TOKEN}".encode()).decode()}
    assert client.get("/api/v1/ingest/es/", headers=headers).status_code == 200
    assert client.put("/api/v1/ingest/es/_index_template/logstash", json={}, headers=headers).json() == \
        {"acknowledged": True}
    body = b"".join(orjson.dumps(part) + b"\n" for line in fx.GATEWAY[:2] for part in (
        {"index": {"_index": "logstash-2026.11.22", "_id": None}}, orjson.loads(line)))
    body += orjson.dumps({"delete": {"_index": "x", "_id": "1"}}) + b"\n"
    response = client.post("/api/v1/ingest/es/_bulk", content=body,
                           headers={**headers, "Content-Type": "application/json"})
    result = response.json()
    assert result["errors"] is True and [next(iter(i.values()))["status"] for i in result["items"]] == [201, 201, 400]
    events = sqlite_store.search_events(EventQuery(limit=10))
    assert {e["event.dataset"] for e in events} == {"gateway.access"} and len(events) == 2
    assert {e["service.id"] for e in events} == {"lgsp-binhdinh"}


def test_ndjson_and_plain_lines(client: TestClient, sqlite_store: Store) -> None:
    headers = {"Authorization": f"Bearer {GATEWAY_TOKEN}", "Content-Type": "application/x-ndjson"}
    response = client.post("/api/v1/ingest", content="\n".join(fx.GATEWAY) + "\n{broken", headers=headers)
    assert response.status_code == 202
    assert response.json() == {"received": 5, "events": 4, "dead_letters": 1, "dead_letters_summarised": 0}
    plain = client.post("/api/v1/ingest", content=fx.NGINX_COMBINED + "\n" + fx.NGINX_MAIN_XFF,
                        headers={"X-API-Key": TOKEN, "Content-Type": "text/plain"})
    assert plain.json()["events"] == 2
    assert sqlite_store.count_events(EventQuery()) == 6


def test_push_refusals_are_clear(client: TestClient, push_settings: Settings, sqlite_store: Store) -> None:
    wrong = client.post("/api/v1/ingest", content=b"{}", headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    es_wrong = client.post("/api/v1/ingest/es/_bulk", content=b"", headers=basic("nope"))
    assert es_wrong.status_code == 401 and es_wrong.json()["error"]["type"] == "security_exception"
    kind = client.post("/api/v1/ingest", content=b"x", headers={"X-API-Key": TOKEN, "Content-Type": "text/html"})
    assert kind.status_code == 415
    huge = client.post("/api/v1/ingest", content=b"x" * 10, headers={"X-API-Key": TOKEN, "Content-Type": "text/plain",
                                                                      "Content-Encoding": "br"})
    assert huge.status_code == 415
    bare = TestClient(create_app(push_settings, sqlite_store))
    assert bare.post("/api/v1/ingest", content=b"{}", headers={"X-API-Key": TOKEN}).status_code == 503


def test_a_full_spool_with_the_store_down_asks_shippers_to_retry(push_settings: Settings, sqlite_store: Store,
                                                                  home: Path) -> None:
    flaky = FlakyStore(sqlite_store)
    flaky.stop_for(3600)
    collection = Collection(push_settings, Directory(push_settings), flaky,  # type: ignore[arg-type]
                            lambda e, d: flaky.put_events(e), spool=True)
    assert collection.delivery.spool is not None
    collection.delivery.spool.max_bytes = 1
    app = create_app(push_settings, sqlite_store)
    app.state.collection = collection
    import canhgac.api.routes.ingest as ingest_routes

    ingest_routes.SUBMIT_TIMEOUT = 0.1
    with TestClient(app) as test_client:
        first = test_client.post("/api/v1/ingest/es/_bulk", content=fluent_bit_bulk(), headers=basic(TOKEN))
        second = test_client.post("/api/v1/ingest/es/_bulk", content=fluent_bit_bulk()[:-1] + b" \n",
                                  headers=basic(TOKEN))
    ingest_routes.SUBMIT_TIMEOUT = 10.0
    collection.close()
    assert first.status_code == 200  # spooled
    assert second.status_code == 429 and second.headers["retry-after"] == "5"


def test_sources_endpoint_shows_status_within_scope(client: TestClient) -> None:
    client.post("/api/v1/ingest", content=fx.NGINX_COMBINED + "\ngarbage", headers={"X-API-Key": TOKEN,
                                                                                    "Content-Type": "text/plain"})
    analyst = client.get("/api/v1/sources", headers={"X-API-Key": "demo-soc-analyst"}).json()
    [fluent] = [s for s in analyst if s["id"] == "http:fluent-dvc"]
    assert fluent["events"] == 1 and fluent["dead_letters"] == 1 and fluent["agency"] == "binhdinh"
    phuyen_view = client.get("/api/v1/sources", headers={"X-API-Key": "demo-quynhon"}).json()
    assert all(s["agency"] == "quynhon" for s in phuyen_view)
    assert client.get("/api/v1/sources").status_code == 401
