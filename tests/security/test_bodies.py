"""Finding: a 400 MiB JSON body to an authenticated route without a key was read whole before the 401. Bodies are
refused by their Content-Length before anything reads them, streamed bodies (chunked too) are cut off at the
limit, the ingest route has its own larger limit, and an authentication failure is answered without waiting for
the body.

These tests drive the application as an ASGI server would and count how often it asks for body chunks."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from canhgac.api.app import create_app
from canhgac.collectors.service import Collection
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import EventQuery, Store
from fastapi import FastAPI

CHUNK = b"[" + b" " * (64 * 1024 - 1)  # the start of a JSON array that never ends
ANALYST = {"x-api-key": "demo-soc-analyst"}
PUSH_TOKEN = "ma-day-cua-cong-dvc-binh-dinh"
INCIDENTS = "/api/v1/incidents"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int  # body chunks the application asked for before it answered


def call(app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> Answer:
    """One request; ``chunks`` is the body, handed out only when the application asks."""
    sent: list[dict[str, Any]] = []
    reads = 0
    answered_after: int | None = None
    pending = iter(chunks)
    upcoming = next(pending, None)

    async def receive() -> dict[str, Any]:
        nonlocal reads, upcoming
        if upcoming is None or answered_after is not None:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        reads += 1
        current, upcoming = upcoming, next(pending, None)
        return {"type": "http.request", "body": current, "more_body": upcoming is not None}

    async def send(message: dict[str, Any]) -> None:
        nonlocal answered_after
        if message["type"] == "http.response.start" and answered_after is None:
            answered_after = reads
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], response_headers, body, answered_after or 0)


def endless(total_chunks: int = 256) -> Iterator[bytes]:
    """16 MiB unless cut off: more than any limit, small enough that an unfixed build finishes the test."""
    return (CHUNK for _ in range(total_chunks))


def assert_problem(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.body[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    missing = [name for name in SECURITY_HEADERS if name not in answer.headers]
    assert not missing, f"{status} without {missing}"


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    data = settings.model_dump(mode="json")
    data["systems"][2]["log_sources"].append({"type": "http", "name": "fluent-dvc", "format": "nginx",
                                              "token_sha256": hashlib.sha256(PUSH_TOKEN.encode()).hexdigest()})
    data["collection"]["http"]["max_body_bytes"] = 4 << 20
    return Settings.model_validate(data)


@pytest.fixture
def app(push_settings: Settings, sqlite_store: Store, home: Path) -> Iterator[FastAPI]:
    collection = Collection(push_settings, Directory(push_settings), sqlite_store,
                            lambda e, d: (sqlite_store.put_events(e), sqlite_store.put_dead_letters(d)))
    application = create_app(push_settings, sqlite_store)
    application.state.collection = collection
    yield application
    collection.close()


def test_a_declared_oversize_body_is_refused_before_anything_reads_it(app: FastAPI) -> None:
    for headers in ({}, ANALYST):  # before authentication, and with a valid key
        answer = call(app, "POST", INCIDENTS, {**headers, "content-type": "application/json",
                                               "content-length": str(400 << 20)}, endless())
        assert_problem(answer, 413)
        assert answer.chunks_read == 0


def test_an_unauthenticated_body_is_not_read_before_the_401(app: FastAPI) -> None:
    for headers in ({}, {"x-api-key": "not-a-key"}, {"authorization": "Bearer not-a-key"}):
        chunked = call(app, "POST", INCIDENTS, {**headers, "content-type": "application/json",
                                                "transfer-encoding": "chunked"}, endless())
        assert_problem(chunked, 401)
        assert chunked.chunks_read == 0
        assert "www-authenticate" in chunked.headers
        declared = call(app, "PATCH", INCIDENTS + "/BDH-1", {**headers, "content-type": "application/json",
                                                             "content-length": str(64 * 1024)}, iter([CHUNK]))
        assert_problem(declared, 401)
        assert declared.chunks_read == 0


def test_a_streamed_body_is_cut_off_at_the_limit(app: FastAPI) -> None:
    answer = call(app, "POST", INCIDENTS, {**ANALYST, "content-type": "application/json",
                                           "transfer-encoding": "chunked"}, endless())
    assert_problem(answer, 413)
    assert answer.chunks_read <= (1 << 20) // len(CHUNK) + 1  # the API's JSON bodies: 1 MiB


def test_a_body_that_lies_about_its_length_is_cut_off_too(app: FastAPI) -> None:
    answer = call(app, "POST", INCIDENTS, {**ANALYST, "content-type": "application/json", "content-length": "10"},
                  endless())
    assert_problem(answer, 413)
    assert answer.chunks_read <= (1 << 20) // len(CHUNK) + 1


def test_the_ingest_route_has_its_own_larger_limit(app: FastAPI, sqlite_store: Store) -> None:
    line = (b'203.0.113.9 - - [22/Nov/2026:15:04:05 +0700] "GET /tra-cuu HTTP/1.1" 200 512 "-" "curl/8"\n')
    two_mib = line * ((2 << 20) // len(line))
    push = {"x-api-key": PUSH_TOKEN, "content-type": "text/plain"}
    accepted = call(app, "POST", "/api/v1/ingest", {**push, "content-length": str(len(two_mib))},
                    iter([two_mib[i:i + 65536] for i in range(0, len(two_mib), 65536)]))
    assert accepted.status == 202, accepted.body
    assert sqlite_store.count_events(EventQuery()) == len(two_mib) // len(line)
    too_big_for_api = call(app, "POST", INCIDENTS, {**ANALYST, "content-type": "application/json",
                                                    "content-length": str(len(two_mib))}, iter([two_mib]))
    assert_problem(too_big_for_api, 413)
    over = call(app, "POST", "/api/v1/ingest", {"content-type": "text/plain", "content-length": str(5 << 20)},
                endless())
    assert_problem(over, 413)  # before the push token is even looked at
    assert over.chunks_read == 0
    streamed = call(app, "POST", "/api/v1/ingest/es/_bulk", {**push, "transfer-encoding": "chunked"}, endless())
    assert streamed.status == 413 and streamed.chunks_read <= (4 << 20) // len(CHUNK) + 1


def test_an_unauthenticated_push_is_not_read_either(app: FastAPI) -> None:
    for path in ("/api/v1/ingest", "/api/v1/ingest/es/_bulk"):
        answer = call(app, "POST", path, {"content-type": "application/x-ndjson", "transfer-encoding": "chunked"},
                      endless())
        assert answer.status == 401 and answer.chunks_read == 0


def test_ordinary_bodies_still_work(app: FastAPI) -> None:
    body = '{"agency": "quynhon", "title": "Lộ dữ liệu", "severity": "high"}'.encode()
    answer = call(app, "POST", INCIDENTS, {**ANALYST, "content-type": "application/json",
                                           "content-length": str(len(body))}, iter([body[:10], body[10:]]))
    assert answer.status == 201, answer.body


def test_every_route_that_takes_a_body_needs_a_key_first(app: FastAPI) -> None:
    """The limits ask for an API key before reading any body under /api/v1 outside the ingest routes: hold the
    OpenAPI document to that, so a public route with a body cannot appear unnoticed."""
    operations = [(method, path, operation) for path, item in app.openapi()["paths"].items()
                  for method, operation in item.items()]
    with_body = [(method, path) for method, path, operation in operations if "requestBody" in operation]
    assert len(with_body) > 10
    public = [(method, path) for method, path, operation in operations
              if "requestBody" in operation and not operation.get("security")]
    assert public == []
