"""kill -9 of ``canhgac serve`` while rsyslog sends over RELP from a disk-assisted queue
(docs/shipping/rsyslog-canhgac-relp.conf), then a restart: every line is stored, and exactly once — what
rsyslog re-sends after reconnecting keeps the id of the copy stored before the kill (collectors/relp.py)."""

from __future__ import annotations

import socket
import time

import pytest
from canhgac.collectors.relp import Frame, RelpError, RelpReader, response
from canhgac.core.config_collection import SyslogInput

from tests.collectors.support import access_line
from tests.shippers.harness import Server, count_rows
from tests.shippers.programs import has_rsyslog_module, rsyslog
from tests.shippers.recipes import DOC_AUTH_LOG, DOC_HOST, DOC_NGINX_LOG, doc_includes, recipe

LINES = 20_000


def test_frames_are_read_however_the_stream_is_cut() -> None:
    offers = b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog"
    stream = b"1 open %d %s\n2 syslog 12 <13>1 - x y\n\n3 close 0\n" % (len(offers), offers)
    whole = RelpReader(1024).feed(stream)
    assert [(f.txnr, f.command) for f in whole] == [(1, "open"), (2, "syslog"), (3, "close")]
    assert whole[1] == Frame(2, "syslog", b"<13>1 - x y\n")  # the data may itself end with LF
    reader = RelpReader(1024)
    pieces = [reader.feed(stream[n:n + 1]) for n in range(len(stream))]
    assert [frame for piece in pieces for frame in piece] == whole
    assert response(2, b"200 OK") == b"2 rsp 6 200 OK\n" and response(3, b"") == b"3 rsp 0\n"
    with pytest.raises(RelpError):
        RelpReader(1024).feed(b"<13>Dec  2 not relp\n")
    with pytest.raises(RelpError):
        RelpReader(10).feed(b"4 syslog 99 ")


def test_a_listener_may_offer_relp_alone() -> None:
    assert SyslogInput(udp_port=None, tcp_port=None, relp_port=2514).relp_port == 2514
    with pytest.raises(ValueError, match="relp_port"):
        SyslogInput(udp_port=None, tcp_port=None)


def test_kill_9_while_rsyslog_sends_over_relp_loses_nothing_and_stores_nothing_twice(
        server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not has_rsyslog_module("omrelp"):
        pytest.skip("rsyslog's omrelp is not installed (apt-get install rsyslog-relp)")
    folder = tmp_path_factory.mktemp("relp-logs")
    nginx, auth = folder / "access.log", folder / "auth.log"
    nginx.write_text("".join(access_line(n) for n in range(LINES)), encoding="utf-8")
    auth.write_text("", encoding="utf-8")
    server.start()
    body = recipe("rsyslog-canhgac-relp.conf", (DOC_NGINX_LOG, str(nginx)), (DOC_AUTH_LOG, str(auth)),
                  (f'target="{DOC_HOST}" port="2514"', f'target="127.0.0.1" port="{server.relp_port}"'))
    relay = rsyslog(tmp_path_factory.mktemp("rsyslog-relp"), body)
    try:
        server.wait_for(lambda: count_rows(server.database) >= LINES // 5, 30, "the first lines")
        server.kill()  # kill -9, mid-stream
        before = count_rows(server.database)
        assert before < LINES, "the kill came too late to test anything"
        time.sleep(1.0)  # rsyslog queues meanwhile, on disk when its memory queue fills
        server.start()
        server.wait_for(lambda: count_rows(server.database) >= LINES, 60, f"{LINES} events after the restart")
        time.sleep(1.5)  # anything re-sent twice would land now
    finally:
        relay.close()
    assert f"RELP {server.relp_port}" in server.output()  # serve says where it listens
    stored = server.stored()
    assert len(stored.events) == LINES, relay.output()
    paths = sorted(event["url.path"] for event in stored.events)
    assert paths == sorted(f"/ho-so/{n}" for n in range(LINES))  # every line, each once


def test_a_message_re_sent_on_a_new_connection_is_stored_once(server: Server) -> None:
    """What librelp does after a reconnect, by hand: the same frames again, with new transaction numbers. A message
    repeated within one session (two identical health checks in one second) stays two events."""
    server.start()
    messages = [f"<190>Dec  2 05:20:{n:02d} dvc-web01 nginx: " + access_line(n).rstrip("\n") for n in range(5)]
    first = _relp_session(server.relp_port, [*messages, messages[0]])
    assert first == [b"%d rsp 6 200 OK" % txnr for txnr in range(2, 8)]
    server.wait_for_events(6)
    again = _relp_session(server.relp_port, messages[2:])  # the unacknowledged tail, re-sent after a crash
    assert len(again) == 3
    server.wait_for_events(6)
    assert count_rows(server.database) == 6


def _relp_session(port: int, messages: list[str]) -> list[bytes]:
    """Open, send ``messages`` as syslog frames, close; the responses to the messages, as frames."""
    offers = b"relp_version=0\nrelp_software=test\ncommands=syslog"
    frames = [b"1 open %d %s\n" % (len(offers), offers)]
    frames += [b"%d syslog %d %s\n" % (n + 2, len(m.encode()), m.encode()) for n, m in enumerate(messages)]
    frames.append(b"%d close 0\n" % (len(messages) + 2))
    replies: list[Frame] = []
    reader = RelpReader(65536)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"".join(frames))
        while len(replies) < len(frames):
            chunk = connection.recv(65536)
            if not chunk:
                break
            replies += reader.feed(chunk)
    opened, *answers, closed = replies
    assert opened.txnr == 1 and opened.data.startswith(b"200 OK\n") and b"commands=syslog" in opened.data
    assert closed.txnr == len(messages) + 2 and closed.command == "rsp"
    return [response(frame.txnr, frame.data).rstrip(b"\n") for frame in answers]


def test_the_recipe_is_in_the_guide() -> None:
    assert doc_includes("rsyslog-canhgac-relp.conf")
