"""The official elasticsearch-py client against ``canhgac serve``: ``helpers.bulk`` and ``streaming_bulk`` store
what ``canhgac ingest`` stores; ``_id`` makes a re-send harmless; dead letters, templates, ILM policies and
errors answer as a cluster would, in the body the client decodes."""

from __future__ import annotations

import pytest
from elasticsearch import ApiError, Elasticsearch, helpers

from tests.shippers.harness import PUSH_TOKEN, MixedLogs, Server, Stored, assert_same_as_ingest, count_rows
from tests.shippers.recipes import DOC_AUTH_LOG, DOC_NGINX_LOG, doc_includes, recipe


def _client(server: Server, token: str = PUSH_TOKEN) -> Elasticsearch:
    return Elasticsearch(server.es_url, api_key=token, request_timeout=10, retry_on_timeout=False, max_retries=0)


def _actions(logs: MixedLogs, *, with_ids: bool) -> list[dict[str, object]]:
    """One data stream per log: the index names the format, so one token carries both (docs/shipping.md)."""
    actions: list[dict[str, object]] = []
    for path, stream in ((logs.nginx, "logs-nginx.access-binhdinh"), (logs.auth, "logs-system.auth-binhdinh")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            action: dict[str, object] = {"_op_type": "create", "_index": stream, "message": line}
            if with_ids:
                action["_id"] = f"{path.name}:{number}"
            actions.append(action)
    return actions


def test_helpers_bulk_and_streaming_bulk_store_what_ingest_stores(server: Server, mixed_logs: MixedLogs,
                                                                  reference: Stored) -> None:
    client = _client(server.start())
    actions = _actions(mixed_logs, with_ids=True)
    half = len(actions) // 2
    ok, errors = helpers.bulk(client, actions[:half], chunk_size=25)
    assert ok == half and errors == []
    streamed = list(helpers.streaming_bulk(client, actions[half:], chunk_size=10, max_retries=2))
    assert all(ok for ok, _ in streamed) and len(streamed) == len(actions) - half
    server.wait_for_events(len(actions))
    # A shipper re-sending after a timeout batches differently: the same _id in a new body stores nothing twice.
    ok, _ = helpers.bulk(client, actions[5:half + 7], chunk_size=33)
    assert ok == half + 2
    server.wait_for_events(len(actions))
    assert count_rows(server.database) == len(actions)
    assert_same_as_ingest(server.stored(), reference)


def test_a_dead_letter_is_a_400_item_and_errors_decode(server: Server) -> None:
    client = _client(server.start())
    actions = [{"_index": "logs-nginx.access-binhdinh", "message": "not an access line"},
               {"_index": "logs-nginx.access-binhdinh", "MESSAGE":  # syslog-ng's default template
                '14.161.0.10 - - [02/Dec/2026:05:20:43 +0700] "GET / HTTP/1.1" 200 5 "-" "curl/8.5"'}]
    with pytest.raises(helpers.BulkIndexError) as refused:
        helpers.bulk(client, actions)
    [failed] = refused.value.errors
    assert failed["index"]["status"] == 400 and failed["index"]["error"]["type"] == "document_parsing_exception"
    assert failed["index"]["error"]["reason"]  # the parser's reason, as the dead letter keeps it
    server.wait_for_events(1)
    with pytest.raises(ApiError) as unauthorised:  # the client decodes the error: no SerializationError
        _client(server, "not-a-token").info()
    assert unauthorised.value.status_code == 401
    assert unauthorised.value.body["error"]["type"] == "security_exception"


def test_templates_and_lifecycle_policies_answer_as_a_cluster(server: Server) -> None:
    client = _client(server.start())
    assert not client.indices.exists_index_template(name="canhgac-logs")
    template = {"index_patterns": ["logs-*"], "template": {"settings": {"number_of_shards": 1}}}
    assert client.indices.put_index_template(name="canhgac-logs", body=template)["acknowledged"] is True
    assert client.indices.exists_index_template(name="canhgac-logs")
    got = client.indices.get_index_template(name="canhgac-logs")
    assert got["index_templates"][0]["index_template"]["index_patterns"] == ["logs-*"]
    assert not client.indices.exists_template(name="legacy")
    client.indices.put_template(name="legacy", index_patterns=["old-*"])
    assert client.indices.exists_template(name="legacy")
    assert not client.cluster.exists_component_template(name="settings")
    client.cluster.put_component_template(name="settings", template={"settings": {}})
    assert client.cluster.exists_component_template(name="settings")
    policy = {"phases": {"hot": {"actions": {"rollover": {"max_age": "1d"}}}}}
    assert client.ilm.put_lifecycle(name="keep-90d", policy=policy)["acknowledged"] is True
    assert client.ilm.get_lifecycle(name="keep-90d")["keep-90d"]["policy"] == policy
    with pytest.raises(ApiError) as missing:
        client.ilm.get_lifecycle(name="never-made")
    assert missing.value.status_code == 404 and missing.value.body["error"]["type"] == "resource_not_found_exception"
    with pytest.raises(ApiError) as unknown:
        client.perform_request("GET", "/_no_such_api/x")
    assert unknown.value.body["status"] == 400 and unknown.value.body["error"]["root_cause"]
    assert not client.indices.exists(index="logs-nginx.access-binhdinh")  # HEAD of a route that is not there
    for method, path, status in (("GET", "/logs-nginx.access-binhdinh", 404), ("GET", "/_bulk", 405)):
        with pytest.raises(ApiError) as refused:  # FastAPI's own 404 and 405, in Elasticsearch's body
            client.perform_request(method, path)
        assert refused.value.status_code == status and refused.value.body["status"] == status
        assert refused.value.body["error"]["type"] and refused.value.body["error"]["reason"]


def test_the_documented_client_code(server: Server, mixed_logs: MixedLogs, reference: Stored) -> None:
    """docs/shipping/elasticsearch-py.py as written, run twice (a re-run after a failure): stored once."""
    server.start()
    code = recipe("elasticsearch-py.py", (DOC_NGINX_LOG, str(mixed_logs.nginx)), (DOC_AUTH_LOG, str(mixed_logs.auth)),
                  ("https://soc.example.gov.vn/api/v1/ingest/es", server.es_url), ('"PUSH_TOKEN"', f'"{PUSH_TOKEN}"'))
    for _ in range(2):
        exec(code, {})
    server.wait_for_events(mixed_logs.lines)
    assert count_rows(server.database) == mixed_logs.lines
    assert_same_as_ingest(server.stored(), reference)
    assert doc_includes("elasticsearch-py.py")
