"""rsyslog 8 from Debian, configured as docs/shipping/rsyslog-canhgac.conf says (imfile → omfwd, stock
template), over TCP with octet counting and with newline framing, and over UDP with RFC 5424: what reaches
``canhgac serve`` is stored as ``canhgac ingest`` stores the same files, and the same alerts fire."""

from __future__ import annotations

import pytest

from tests.shippers.harness import MixedLogs, Server, Stored, assert_same_as_ingest, count_rows
from tests.shippers.programs import rsyslog
from tests.shippers.recipes import DOC_AUTH_LOG, DOC_HOST, DOC_NGINX_LOG, DOC_PORT, doc_includes, recipe

OMFWD = 'protocol="tcp" TCP_Framing="octet-counted"'
VARIANTS = {
    "tcp-octet-counted": (OMFWD, OMFWD),
    "tcp-newline": (OMFWD, 'protocol="tcp" TCP_Framing="traditional"'),
    "udp-rfc5424": (OMFWD, 'protocol="udp" template="RSYSLOG_SyslogProtocol23Format"'),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_rsyslog_imfile_to_omfwd(server: Server, mixed_logs: MixedLogs, reference: Stored, variant: str,
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    server.start()
    port = server.udp_port if variant.startswith("udp") else server.tcp_port
    body = recipe("rsyslog-canhgac.conf", (DOC_NGINX_LOG, str(mixed_logs.nginx)), (DOC_AUTH_LOG, str(mixed_logs.auth)),
                  (f'target="{DOC_HOST}" port="{DOC_PORT}"', f'target="127.0.0.1" port="{port}"'), VARIANTS[variant])
    relay = rsyslog(tmp_path_factory.mktemp(f"rsyslog-{variant}"), body)
    try:
        server.wait_for_events(mixed_logs.lines, timeout=30)
    finally:
        relay.close()
    assert count_rows(server.database) == mixed_logs.lines, relay.output()
    assert_same_as_ingest(server.stored(), reference)


def test_the_recipes_are_in_the_guide() -> None:
    assert doc_includes("rsyslog-canhgac.conf") and doc_includes("rsyslog-canhgac-relp.conf")
