"""The ES-compatible endpoint as shippers use it (issue 14): ``_index`` choosing the format so that one token
carries several logs, ``_id`` making a re-send in another body harmless, and the index names the documented
Fluent Bit, Vector and Logstash recipes send resolving to the formats they mean."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from canhgac.api.app import create_app
from canhgac.collectors.es_documents import index_formats
from canhgac.collectors.parsers import known_formats
from canhgac.collectors.service import Collection
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import EventQuery, Store
from fastapi.testclient import TestClient

from tests.collectors import fixtures as fx
from tests.conftest import ROOT

TOKEN = "mot-ma-cho-moi-nhat-ky-cua-may-chu"
SSH = "Dec  2 05:20:43 dvc-web01 sshd[20201]: Failed password for root from 185.220.101.45 port 51000 ssh2"


@pytest.fixture
def client(settings: Settings, sqlite_store: Store, home: Path) -> Iterator[TestClient]:
    data = settings.model_dump(mode="json")
    data["systems"][2]["log_sources"].append({"type": "http", "name": "web01", "format": "nginx",
                                              "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()})
    configured = Settings.model_validate(data)
    collection = Collection(configured, Directory(configured), sqlite_store,
                            lambda e, d: (sqlite_store.put_events(e), sqlite_store.put_dead_letters(d)))
    app = create_app(configured, sqlite_store)
    app.state.collection = collection
    with TestClient(app) as test_client:
        yield test_client


def _bulk(client: TestClient, *parts: dict[str, object], path: str = "/api/v1/ingest/es/_bulk") -> dict[str, object]:
    body = b"".join(orjson.dumps(part) + b"\n" for part in parts)
    response = client.post(path, content=body, headers={"X-API-Key": TOKEN, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_the_index_chooses_the_format_so_one_token_carries_several_logs(client: TestClient,
                                                                        sqlite_store: Store) -> None:
    answer = _bulk(client, {"create": {"_index": "logs-nginx.access-binhdinh"}}, {"message": fx.NGINX_COMBINED},
                   {"create": {"_index": "logs-system.auth-binhdinh"}}, {"message": SSH},
                   {"create": {"_index": "auth-2026.12.02"}}, {"MESSAGE": SSH.replace("51000", "51001")},
                   {"create": {"_index": "fluent-bit"}}, {"log": fx.NGINX_TIMINGS})  # unknown: the source's format
    assert answer["errors"] is False
    events = sqlite_store.search_events(EventQuery(limit=10, newest_first=False))
    assert sorted(e["event.dataset"] for e in events) == ["nginx.access", "nginx.access", "system.auth", "system.auth"]
    assert {e["event.action"] for e in events if e["event.dataset"] == "system.auth"} == {"ssh_login"}
    url_index = _bulk(client, {"index": {}}, {"message": SSH.replace("51000", "51002")},
                      path="/api/v1/ingest/es/logs-system.auth-quynhon/_bulk")  # the URL's index, as in Elasticsearch
    assert url_index["items"][0]["index"]["_index"] == "logs-system.auth-quynhon"
    assert sqlite_store.count_events(EventQuery(filters={"event.dataset": ["system.auth"]})) == 3


def test_an_id_makes_a_resend_in_another_body_harmless(client: TestClient, sqlite_store: Store) -> None:
    first = [{"create": {"_index": "logs-nginx.access-x", "_id": "web01:1"}}, {"message": fx.NGINX_COMBINED},
             {"create": {"_index": "logs-nginx.access-x", "_id": "web01:2"}}, {"message": fx.NGINX_TIMINGS}]
    _bulk(client, *first)
    # The retry after a timeout batches differently: another body, so the body digest is no help.
    again = _bulk(client, *first[2:], {"create": {"_index": "logs-nginx.access-x"}}, {"message": fx.NGINX_MAIN_XFF},
                  *first[:2])
    assert [item["create"]["status"] for item in again["items"]] == [201, 201, 201]
    assert sqlite_store.count_events(EventQuery()) == 3
    dead = _bulk(client, {"create": {"_id": "web01:3"}}, {"message": "not a line"})
    item = dead["items"][0]["create"]
    assert dead["errors"] is True and item["status"] == 400 and item["_id"] == "web01:3"
    assert item["error"]["type"] == "document_parsing_exception" and item["error"]["reason"]
    _bulk(client, {"create": {"_id": "web01:3"}}, {"message": "not a line"}, {"index": {}}, {"message": "x"})
    assert len(sqlite_store.search_dead_letters()) == 2  # the re-sent bad line is still one letter; "x" another


@pytest.mark.parametrize("name, expected", [("logs-nginx.access-quynhon", "nginx"), ("logs-system.auth-x", "auth"),
                                            ("logs-gateway.access-x", "gateway"), ("nginx-2026.12.02", "nginx"),
                                            ("logs-fortinet_fortigate.log-x", "fortigate"), ("fluent-bit", None),
                                            ("logstash-2026.12.02", None)])
def test_index_names(name: str, expected: str | None) -> None:
    assert _chosen(name) == expected


def _chosen(index: str) -> str | None:
    """The format the endpoint picks for ``index``: the first of its candidates that is a known format."""
    return next((name for name in index_formats(index) if name in known_formats()), None)


def test_the_documented_shipper_recipes_name_indices_that_mean_their_logs() -> None:
    recipes = ROOT / "docs" / "shipping"
    fluent = (recipes / "fluent-bit.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s+Index\s+(\S+)$", fluent, re.MULTILINE) == ["logs-nginx.access-binhdinh",
                                                                    "logs-system.auth-binhdinh"]
    assert "Suppress_Type_Name On" in fluent and "Path               /api/v1/ingest/es" in fluent
    vector = tomllib.loads((recipes / "vector.toml").read_text(encoding="utf-8"))["sinks"]["canhgac"]
    assert vector["endpoints"] == ["https://soc.example.gov.vn/api/v1/ingest/es"] and vector["mode"] == "bulk"
    logstash = (recipes / "logstash.conf").read_text(encoding="utf-8")
    for template, datasets in ((vector["bulk"]["index"], ("nginx.access", "system.auth")),
                               (re.search(r'index => "([^"]+)"', logstash)[1], ("nginx.access", "system.auth"))):
        formats = [_chosen(re.sub(r"\{\{ dataset \}\}|%\{dataset\}", d, template)) for d in datasets]
        assert formats == ["nginx", "auth"]
    assert all(d in logstash and d in (recipes / "vector.toml").read_text() for d in ("nginx.access", "system.auth"))
    doc = (ROOT / "docs" / "shipping.md").read_text(encoding="utf-8")
    for name in ("fluent-bit.conf", "vector.toml", "logstash.conf"):
        assert (recipes / name).read_text(encoding="utf-8").strip() in doc
