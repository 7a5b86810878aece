"""syslog-ng 3.38 from Debian (unpacked), configured as docs/shipping says: ``network()`` over TCP and UDP,
``syslog()`` (RFC 5424, octet counting), and ``elasticsearch-http()`` to the ``_bulk`` endpoint with one
push token for both logs. Each stores what ``canhgac ingest`` stores, and the same alerts fire."""

from __future__ import annotations

import pytest

from tests.shippers.harness import PUSH_TOKEN, MixedLogs, Server, Stored, assert_same_as_ingest, count_rows
from tests.shippers.programs import syslog_ng
from tests.shippers.recipes import DOC_AUTH_LOG, DOC_HOST, DOC_NGINX_LOG, DOC_PORT, doc_includes, recipe

NETWORK = f'network("{DOC_HOST}" port({DOC_PORT}) transport("tcp"))'
VARIANTS = {
    "network-tcp": lambda s: f'network("127.0.0.1" port({s.tcp_port}) transport("tcp"))',
    "network-udp": lambda s: f'network("127.0.0.1" port({s.udp_port}) transport("udp"))',
    "syslog-tcp": lambda s: f'syslog("127.0.0.1" port({s.tcp_port}) transport("tcp"))',
}


def _files(logs: MixedLogs) -> list[tuple[str, str]]:
    return [(DOC_NGINX_LOG, str(logs.nginx)), (DOC_AUTH_LOG, str(logs.auth))]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_syslog_ng_network_destinations(server: Server, mixed_logs: MixedLogs, reference: Stored, variant: str,
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    server.start()
    body = recipe("syslog-ng-canhgac.conf", *_files(mixed_logs), (NETWORK, VARIANTS[variant](server)))
    relay = syslog_ng(tmp_path_factory.mktemp(f"syslog-ng-{variant}"), body)
    try:
        server.wait_for_events(mixed_logs.lines, timeout=30)
    finally:
        relay.close()
    assert count_rows(server.database) == mixed_logs.lines, relay.output()
    assert_same_as_ingest(server.stored(), reference)


def test_syslog_ng_elasticsearch_http(server: Server, mixed_logs: MixedLogs, reference: Stored,
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    server.start()
    body = recipe("syslog-ng-canhgac-es.conf", *_files(mixed_logs),
                  ("https://soc.example.gov.vn/api/v1/ingest/es/_bulk", f"{server.es_url}/_bulk"),
                  ('password("PUSH_TOKEN")', f'password("{PUSH_TOKEN}")'))
    relay = syslog_ng(tmp_path_factory.mktemp("syslog-ng-es"), body)
    try:
        server.wait_for_events(mixed_logs.lines, timeout=30)
    finally:
        relay.close()
    assert count_rows(server.database) == mixed_logs.lines, relay.output()
    assert_same_as_ingest(server.stored(), reference)


def test_the_recipes_are_in_the_guide() -> None:
    assert doc_includes("syslog-ng-canhgac.conf") and doc_includes("syslog-ng-canhgac-es.conf")
