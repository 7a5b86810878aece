"""Python's ``logging.handlers.SysLogHandler`` with stock settings (docs/shipping/python-logging.py), over TCP
(frames end with NUL, no newline) and UDP (``<PRI>`` glued to the message): every line is stored as
``canhgac ingest`` stores it, and the same alerts fire."""

from __future__ import annotations

import logging

import pytest

from tests.shippers.harness import MixedLogs, Server, Stored, assert_same_as_ingest, count_rows
from tests.shippers.recipes import DOC_HOST, DOC_PORT, doc_includes, recipe


def _handler(server: Server, transport: str) -> logging.Handler:
    port = server.tcp_port if transport == "tcp" else server.udp_port
    replacements = [(f'("{DOC_HOST}", {DOC_PORT})', f'("127.0.0.1", {port})')]
    if transport == "udp":
        replacements.append(("socktype=socket.SOCK_STREAM", "socktype=socket.SOCK_DGRAM"))
    namespace: dict[str, object] = {}
    for stale in logging.getLogger("dvc").handlers[:]:  # another test's
        logging.getLogger("dvc").removeHandler(stale)
    exec(recipe("python-logging.py", *replacements), namespace)  # the documented code, as an application runs it
    log = namespace["log"]
    assert isinstance(log, logging.Logger)
    log.propagate = False
    [handler] = log.handlers
    return handler


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_syslog_handler_stock_settings(server: Server, mixed_logs: MixedLogs, reference: Stored,
                                       transport: str) -> None:
    server.start()
    handler = _handler(server, transport)
    log = logging.getLogger("dvc")
    try:
        for path in (mixed_logs.nginx, mixed_logs.auth):
            for line in path.read_text(encoding="utf-8").splitlines():
                log.info(line)
    finally:
        log.removeHandler(handler)
        handler.close()
    server.wait_for_events(mixed_logs.lines)
    assert count_rows(server.database) == mixed_logs.lines
    assert_same_as_ingest(server.stored(), reference)


def test_the_recipe_is_in_the_guide() -> None:
    assert doc_includes("python-logging.py")
