"""What the store installs at start, on osmem-server (OpenSearch API without data streams or ISM) and on two
recording stand-ins that answer as Elasticsearch (ILM, data streams) and OpenSearch (ISM) do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from canhgac.storage.base import EventQuery
from canhgac.storage.elasticsearch import ElasticsearchStore
from canhgac.storage.elasticsearch.mappings import event_target
from canhgac.storage.elasticsearch.setup import install
from elasticsearch import Elasticsearch

from tests.conftest import REAL_ES_URL, es_client
from tests.storage.test_contract import make_event


def test_event_target_is_one_stream_per_dataset_and_month() -> None:
    event = {**make_event(1), "event.dataset": "nginx.access"}
    assert event_target("canhgac", event) == "canhgac-events-nginx.access-2026.11"
    assert event_target("cg", {**event, "event.dataset": "Weird/Name *x"}) == "cg-events-weird_name_x-2026.11"
    assert event_target("cg", make_event(1)) == "cg-events-generic-2026.11"


@pytest.mark.skipif(bool(REAL_ES_URL), reason="osmem-specific: a real cluster has data streams")
def test_on_osmem_events_of_two_datasets_are_stored_in_plain_indices_and_searched_together(es_url: str) -> None:
    client = es_client(es_url)
    store = ElasticsearchStore(client, index_prefix="canhgac", retention_days=30)
    assert store.cluster.distribution == "opensearch"
    assert not store.cluster.data_streams and store.cluster.lifecycle is None
    web = {**make_event(1), "event.dataset": "nginx.access"}
    ssh = {**make_event(2, minutes=60 * 24 * 20), "event.dataset": "system.auth"}
    assert store.put_events([web, ssh]) == 2
    assert store.put_events([web]) == 0  # the repeat meets its first copy in the same month's stream
    store.refresh()
    assert store.count_events(EventQuery()) == 2
    assert client.indices.exists(index="canhgac-events-nginx.access-2026.11")
    assert client.indices.exists(index="canhgac-events-system.auth-2026.12")
    mapping = client.indices.get_mapping(index="canhgac-events-system.auth-2026.12")
    properties = next(iter(dict(mapping).values()))["mappings"]["properties"]
    assert properties["source"]["properties"]["ip"]["type"] == "ip"
    assert properties["@timestamp"]["type"] == "date"
    templates = {t["name"]: t["index_template"] for t in client.indices.get_index_template(name="canhgac-*")
                 ["index_templates"]}
    assert "data_stream" not in templates["canhgac-events"]
    assert "canhgac-events-mappings" in templates["canhgac-events"]["composed_of"]
    store.close()


# recording stand-ins ----------------------------------------------------------------------------------------
class Recorder(ThreadingHTTPServer):
    def __init__(self, root: dict[str, Any], routes: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.root, self.routes = root, routes
        self.forbidden: set[str] = set()  # paths answered 403, as to a user without the privilege
        self.requests: list[tuple[str, str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path = self.path.split("?")[0]
        self.server.requests.append((self.command, path, body))
        status, answer = 200, {"acknowledged": True}
        if path == "/":
            answer = self.server.root
        elif self.command == "HEAD":
            status = 404
        elif self.command == "PUT" and any(path.startswith(p) for p in self.server.forbidden):
            status, answer = 403, {"error": {"type": "security_exception"}, "status": 403}
        elif not any(path.startswith(route) for route in self.server.routes):
            status, answer = 400, {"error": f"no handler found for uri [{path}]"}
        elif self.command == "GET" and path.startswith("/_plugins/_ism/policies/"):
            status, answer = 404, {"error": {"type": "status_exception"}, "status": 404}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer


COMMON = {"/_component_template/", "/_index_template/", "/_data_stream/", "/canhgac-"}


@pytest.fixture
def recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    kind = request.param
    if kind == "elasticsearch":
        server = Recorder({"version": {"number": "9.1.0", "build_flavor": "default"}},
                          COMMON | {"/_ilm/"})
    else:
        server = Recorder({"version": {"number": "2.19.0", "distribution": "opensearch"}},
                          COMMON | {"/_plugins/_ism/"})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server: Recorder) -> Elasticsearch:
    return Elasticsearch(f"http://127.0.0.1:{server.server_address[1]}", server_mode="serverless")


@pytest.mark.parametrize("recorder", ["elasticsearch"], indirect=True)
def test_on_elasticsearch_events_are_data_streams_under_an_ilm_policy(recorder: Recorder) -> None:
    cluster = install(_client(recorder), "canhgac", retention_days=90)
    assert (cluster.distribution, cluster.lifecycle, cluster.data_streams) == ("elasticsearch", "ilm", True)
    writes = {path: body for method, path, body in recorder.requests if method == "PUT"}
    policy = writes["/_ilm/policy/canhgac-events-retention"]["policy"]["phases"]
    assert policy["delete"]["min_age"] == "90d" and "delete" in policy["delete"]["actions"]
    assert "rollover" in policy["hot"]["actions"]
    events = writes["/_index_template/canhgac-events"]
    assert events["data_stream"] == {} and events["index_patterns"] == ["canhgac-events-*"]
    assert "canhgac-events-lifecycle" in events["composed_of"]
    lifecycle = writes["/_component_template/canhgac-events-lifecycle"]["template"]["settings"]
    assert lifecycle["index"]["lifecycle"]["name"] == "canhgac-events-retention"
    assert "data_stream" not in writes["/_index_template/canhgac-incidents"]
    assert ("DELETE", "/_data_stream/canhgac-events-setup_probe-0000.00", None) in recorder.requests
    assert not any("_ism" in path for _, path, _ in recorder.requests)


@pytest.mark.parametrize("recorder", ["opensearch"], indirect=True)
def test_on_opensearch_the_same_retention_is_an_ism_policy(recorder: Recorder) -> None:
    cluster = install(_client(recorder), "canhgac", retention_days=45)
    assert (cluster.distribution, cluster.lifecycle, cluster.data_streams) == ("opensearch", "ism", True)
    writes = {path: body for method, path, body in recorder.requests if method == "PUT"}
    policy = writes["/_plugins/_ism/policies/canhgac-events-retention"]["policy"]
    delete = next(s for s in policy["states"] if s["name"] == "delete")
    assert delete["actions"] == [{"delete": {}}]
    hot = next(s for s in policy["states"] if s["name"] == "hot")
    assert hot["transitions"][0]["conditions"] == {"min_rollover_age": "45d"}
    assert ".ds-canhgac-events-*" in policy["ism_template"][0]["index_patterns"]
    assert "canhgac-events-lifecycle" not in writes["/_index_template/canhgac-events"]["composed_of"]
    assert not any("_ilm" in path for _, path, _ in recorder.requests)


@pytest.mark.parametrize("recorder", ["elasticsearch"], indirect=True)
def test_without_retention_no_policy_is_installed(recorder: Recorder) -> None:
    cluster = install(_client(recorder), "canhgac", retention_days=None)
    assert cluster.lifecycle is None
    assert not any("_ilm" in path for _, path, _ in recorder.requests)


@pytest.mark.parametrize("recorder", ["elasticsearch"], indirect=True)
def test_a_policy_the_user_may_not_install_leaves_retention_to_the_store(recorder: Recorder) -> None:
    recorder.forbidden.add("/_ilm/policy/")
    cluster = install(_client(recorder), "canhgac", retention_days=60)
    assert cluster.lifecycle is None and cluster.data_streams
    writes = {path: body for method, path, body in recorder.requests if method == "PUT"}
    assert "/_component_template/canhgac-events-lifecycle" not in writes
    assert writes["/_index_template/canhgac-events"]["data_stream"] == {}
