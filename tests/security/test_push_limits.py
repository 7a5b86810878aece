"""Finding: a 1 KB gzip body of ``x\\n`` × 524,288 to ``POST /api/v1/ingest`` made 524,288 dead letters, and
``_bulk`` answered a 230-byte request with 15 MB. A push request is bounded in bytes (as sent and uncompressed)
and in lines, keeps a bounded number of dead letters (the rest are counted in one summary letter), gets a bounded
answer, and each push token is rate-limited. A refused request (413, 429) stores nothing."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from canhgac.api.app import create_app
from canhgac.collectors.service import Collection
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import EventQuery, Store
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError

TOKEN = "ma-day-cua-cong-dvc-binh-dinh"
OTHER_TOKEN = "ma-day-cua-lgsp-binh-dinh"
PLAIN = {"X-API-Key": TOKEN, "Content-Type": "text/plain"}
GZIP_PLAIN = {**PLAIN, "Content-Encoding": "gzip"}
NGINX = '203.0.113.9 - - [22/Nov/2026:15:04:{:02d} +0700] "GET /tra-cuu?id={} HTTP/1.1" 200 512 "-" "curl/8.5"'
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")
MakeClient = Callable[..., TestClient]


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"fluentbit:{token}".encode()).decode(),
            "Content-Type": "application/x-ndjson"}


def nginx_lines(count: int, start: int = 0) -> list[str]:
    return [NGINX.format(i % 60, start + i) for i in range(count)]


@pytest.fixture
def make_client(settings: Settings, sqlite_store: Store, home: Path) -> Iterator[MakeClient]:
    """A push-enabled app; keyword arguments set ``collection.http`` options in the configuration."""
    made: list[tuple[TestClient, Collection]] = []

    def make(**http: Any) -> TestClient:
        data = settings.model_dump(mode="json")
        data["systems"][2]["log_sources"].append({"type": "http", "name": "fluent-dvc", "format": "nginx",
                                                  "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()})
        data["systems"][2]["log_sources"].append({"type": "http", "name": "vector-dvc", "format": "nginx",
                                                  "token_sha256": hashlib.sha256(OTHER_TOKEN.encode()).hexdigest()})
        data["collection"]["http"].update(http)
        push_settings = Settings.model_validate(data)
        collection = Collection(push_settings, Directory(push_settings), sqlite_store,
                                lambda e, d: (sqlite_store.put_events(e), sqlite_store.put_dead_letters(d)))
        app = create_app(push_settings, sqlite_store)
        app.state.collection = collection
        client = TestClient(app)
        made.append((client, collection))
        return client

    yield make
    for client, collection in made:
        client.close()
        collection.close()


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, f"{status} without {missing}"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def assert_es_error(response: Response, status: int) -> dict[str, Any]:
    """Under the ES-compatible prefix errors are Elasticsearch's own body, the one its clients decode."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, f"{status} without {missing}"
    body = response.json()
    assert body["status"] == status and body["error"]["reason"] and body["error"]["root_cause"]
    return body


def stored(store: Store) -> tuple[int, int]:
    return store.count_events(EventQuery()), len(store.search_dead_letters(limit=10_000))


def test_the_reported_gzip_flood_is_refused_whole(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client()
    body = gzip.compress(b"x\n" * 524_288, compresslevel=9)
    assert len(body) < 2048
    response = client.post("/api/v1/ingest", content=body, headers=GZIP_PLAIN)
    problem = assert_problem(response, 413)
    assert "100" in problem["detail"]  # names the limit, so the operator can split the batches
    assert stored(sqlite_store) == (0, 0)


def test_dead_letters_per_request_are_capped_and_the_rest_counted_in_one(make_client: MakeClient,
                                                                         sqlite_store: Store) -> None:
    client = make_client(max_dead_letters=50)
    lines = [*nginx_lines(2), *(f"rác số {i}" for i in range(5000))]
    body = gzip.compress("\n".join(lines).encode())
    response = client.post("/api/v1/ingest", content=body, headers=GZIP_PLAIN)
    assert response.status_code == 202, response.text
    assert response.json() == {"received": 5002, "events": 2, "dead_letters": 5000, "dead_letters_summarised": 4950}
    letters = sqlite_store.search_dead_letters(limit=10_000)
    assert len(letters) == 51
    [summary] = [letter for letter in letters if "4950" in letter.reason]
    assert summary.raw == "rác số 50" and summary.path == "http:fluent-dvc"
    again = client.post("/api/v1/ingest", content=body, headers=GZIP_PLAIN)  # a shipper's retry of the same chunk
    assert again.status_code == 202 and stored(sqlite_store) == (2, 51)
    sources = client.get("/api/v1/sources", headers={"X-API-Key": "demo-soc-analyst"}).json()
    [status] = [s for s in sources if s["id"] == "http:fluent-dvc"]
    assert status["dead_letters"] == 10_000  # the status counts every line that failed, kept or summarised


def test_the_bulk_answer_to_a_tiny_request_is_bounded(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client()
    body = gzip.compress(b"x\n" * 90_000, compresslevel=9)
    assert len(body) < 1024
    response = client.post("/api/v1/ingest/es/_bulk", content=body, headers={**basic(TOKEN),
                                                                              "Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert len(response.content) < 256 * 1024  # was 15 MB
    result = response.json()
    assert result["errors"] is True and len(result["items"]) == 1000 and result["items_not_listed"] == 89_000
    assert all(next(iter(item.values()))["status"] == 400 for item in result["items"])


def test_the_bulk_answer_does_not_echo_huge_names(make_client: MakeClient) -> None:
    client = make_client()
    action = orjson.dumps({"index": {"_index": "i" * 10_000, "_id": "d" * 10_000}})
    verb = orjson.dumps({"v" * 10_000: {}})
    document = orjson.dumps({"log": nginx_lines(1)[0]})
    body = gzip.compress(b"\n".join([action, document] * 500 + [verb] * 500) + b"\n")
    response = client.post("/api/v1/ingest/es/_bulk", content=body, headers={**basic(TOKEN),
                                                                              "Content-Encoding": "gzip"})
    assert response.status_code == 200 and len(response.content) < 1 << 20
    items = response.json()["items"]
    assert [next(iter(i.values()))["status"] for i in items] == [201] * 500 + [400] * 250  # a verb takes a document
    assert all(len(key) <= 32 for item in items for key in item)


def test_bulk_answers_without_errors_are_bounded_too(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client(max_bulk_items=10)
    body = b"".join(orjson.dumps(part) + b"\n" for line in nginx_lines(25)
                    for part in ({"create": {"_index": "fluent-bit"}}, {"log": line}))
    result = client.post("/api/v1/ingest/es/_bulk", content=body, headers=basic(TOKEN)).json()
    assert result["errors"] is False and len(result["items"]) == 10 and result["items_not_listed"] == 15
    assert sqlite_store.count_events(EventQuery()) == 25


def test_too_many_lines_is_413_and_stores_nothing(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client(max_lines=100)
    over = client.post("/api/v1/ingest", content="\n".join(nginx_lines(101)), headers=PLAIN)
    assert_problem(over, 413)
    bulk = b"".join(orjson.dumps(part) + b"\n" for line in nginx_lines(51)
                    for part in ({"index": {}}, {"log": line}))
    es = client.post("/api/v1/ingest/es/_bulk", content=bulk, headers=basic(TOKEN))
    assert_es_error(es, 413)
    assert es.json()["error"]["type"] == "content_too_long_exception"  # what Elasticsearch shippers read
    assert stored(sqlite_store) == (0, 0)
    at_limit = client.post("/api/v1/ingest", content="\n".join(nginx_lines(100)), headers=PLAIN)
    assert at_limit.status_code == 202 and stored(sqlite_store) == (100, 0)


def test_uncompressed_size_is_bounded(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client(max_uncompressed_bytes=64 * 1024)
    body = gzip.compress("\n".join(nginx_lines(2000)).encode())
    assert len(body) < 64 * 1024
    assert_problem(client.post("/api/v1/ingest", content=body, headers=GZIP_PLAIN), 413)
    es = client.post("/api/v1/ingest/es/_bulk", content=gzip.compress(b'{"index":{}}\n{}\n' * 10_000),
                     headers={**basic(TOKEN), "Content-Encoding": "gzip"})
    assert_es_error(es, 413)
    assert stored(sqlite_store) == (0, 0)


def test_each_push_token_is_rate_limited_and_nothing_accepted_is_lost(make_client: MakeClient,
                                                                      sqlite_store: Store) -> None:
    client = make_client(rate_limit={"requests_per_second": 0.001, "request_burst": 2})
    first, second = (client.post("/api/v1/ingest", content=line, headers=PLAIN) for line in nginx_lines(2))
    assert first.status_code == second.status_code == 202
    refused = client.post("/api/v1/ingest", content=nginx_lines(1, start=7)[0], headers=PLAIN)
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    es = client.post("/api/v1/ingest/es/_bulk", content=b'{"index":{}}\n{"log": "x"}\n', headers=basic(TOKEN))
    assert_es_error(es, 429)
    assert es.json()["error"]["type"] == "es_rejected_execution_exception" and "retry-after" in es.headers
    other = client.post("/api/v1/ingest", content=nginx_lines(1, start=9)[0],
                        headers={**PLAIN, "X-API-Key": OTHER_TOKEN})
    assert other.status_code == 202  # another token has its own budget
    assert stored(sqlite_store) == (3, 0)


def test_the_line_rate_is_limited_per_token(make_client: MakeClient, sqlite_store: Store) -> None:
    client = make_client(max_lines=100, rate_limit={"lines_per_second": 0.001, "line_burst": 150})
    assert client.post("/api/v1/ingest", content="\n".join(nginx_lines(100)), headers=PLAIN).status_code == 202
    refused = client.post("/api/v1/ingest", content="\n".join(nginx_lines(60, start=100)), headers=PLAIN)
    assert_problem(refused, 429)
    assert client.post("/api/v1/ingest", content="\n".join(nginx_lines(50, start=200)),
                       headers=PLAIN).status_code == 202
    assert stored(sqlite_store) == (150, 0)


def test_limits_are_validated(settings: Settings) -> None:
    data = settings.model_dump(mode="json")
    defaults = Settings.model_validate(data).collection.http
    assert defaults.max_lines == 100_000 and defaults.max_dead_letters == 100 and defaults.max_bulk_items == 1000
    assert defaults.rate_limit.line_burst >= defaults.max_lines
    for bad in ({"max_lines": 0}, {"max_dead_letters": -1}, {"rate_limit": {"requests_per_second": 0}},
                {"max_lines": 1000, "rate_limit": {"line_burst": 999}}, {"max_line": 5}):
        data["collection"]["http"] = bad
        with pytest.raises(ValidationError) as caught:
            Settings.model_validate(data)
        assert caught.value.errors()[0]["loc"][:2] == ("collection", "http"), bad
