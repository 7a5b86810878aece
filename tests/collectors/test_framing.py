"""Issue 14, item 2: TCP framing as senders really do it, over a real socket to the listener.

The framing of a connection is decided by its first frame and kept: octet counting (``LEN SP <PRI>…``) or
messages ended by a newline or a NUL (Python ``SysLogHandler`` over TCP ends each with NUL and no newline).
"""

from __future__ import annotations

import logging
import logging.handlers
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from canhgac.collectors.raw import RawLine
from canhgac.collectors.syslog import TcpFramer
from canhgac.storage.base import EventQuery, Store

from tests.collectors import syslog_support as sy


def _connection(server: object, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as tcp:  # type: ignore[attr-defined]
        tcp.sendall(payload)


def test_python_syslog_handler_over_tcp_is_one_event_per_message(sqlite_store: Store, home: Path) -> None:
    web, _ = sy.original_lines()
    sent = 2505
    with sy.listening(sy.settings(), sqlite_store) as (server, collection):
        handler = logging.handlers.SysLogHandler(("127.0.0.1", server.tcp_port), socktype=socket.SOCK_STREAM)
        logger = logging.getLogger("canhgac-test-framing")
        logger.propagate = False
        logger.addHandler(handler)
        for n in range(sent):
            logger.error(web[n % len(web)].replace('"sqlmap/1.7"', f'"sqlmap/1.7 #{n}"'))
        handler.close()
        logger.removeHandler(handler)
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= sent, 20)
        status = collection.board.sources["syslog-tcp:test"]
    assert sqlite_store.count_events(EventQuery()) == sent
    assert not sqlite_store.search_dead_letters()
    assert status.events == sent and status.dead_letters == 0
    [event] = sqlite_store.search_events(EventQuery(filters={"user_agent.original": ["sqlmap/1.7 #2504"]}))
    assert event["event.dataset"] == "nginx.access" and not event["event.original"].endswith("\0")


@pytest.mark.parametrize("first", [b"", b"404 Not Found from upstream\n", b"404 <html> not found\n"])
def test_a_newline_framed_message_starting_with_digits_is_not_a_count(first: bytes, sqlite_store: Store,
                                                                        home: Path) -> None:
    now = sy.bsd(datetime.now(UTC))
    payload = first + (f"<13>{now} web01 app: one\n404 Not Found from upstream\n"
                       f"<13>{now} web01 app: two\n2 <13>{now} web01 app: three\n").encode()
    with sy.listening(sy.settings(), sqlite_store) as (server, _collection):
        _connection(server, payload)
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= 2 and len(sqlite_store.search_dead_letters()) >= 2
                + bool(first))
    assert sorted(e["message"] for e in sqlite_store.search_events(EventQuery(limit=10))) == ["one", "two"]
    # each line on its own: no count swallowed the messages after it, and no count was read mid-connection
    expected = [first.decode().strip(), "404 Not Found from upstream", f"2 <13>{now} web01 app: three"]
    assert sorted(letter.raw for letter in sqlite_store.search_dead_letters()) == sorted(filter(None, expected))


def test_octet_counting_is_kept_for_the_whole_connection(sqlite_store: Store, home: Path) -> None:
    now = sy.iso(datetime.now(UTC))
    messages = [f"<14>1 {now} web01 app - - - first line\nsecond line of the same message",
                f"<14>1 {now} web01 app - - - 404 is what it said",
                f"<14>1 {now} web01 app - - - ends with a newline\n"]
    payload = b"".join(b"%d %s" % (len(m.encode()), m.encode()) for m in messages)
    with sy.listening(sy.settings(), sqlite_store) as (server, _collection):
        _connection(server, payload)
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= 3)
    found = sorted(e["message"] for e in sqlite_store.search_events(EventQuery(limit=10)))
    assert found == ["404 is what it said", "ends with a newline", "first line\nsecond line of the same message"]
    assert not sqlite_store.search_dead_letters()


STREAMS = [
    b"<14>a\0<14>b\0\0<14>c\n<14>d\r\n",  # NUL- and newline-ended, as SysLogHandler and logger send
    b"5 <14>a5 <14>b\n5 <14>c",  # octet counting, a stray newline between frames
    b"404 Not Found\n12 <14>not count\n",  # decided by the first frame: newline framing
    b"40 <14>1 - -x" + b"y" * 30 + b"3 <1>",  # octet counting, a frame over the limit
]


@pytest.mark.parametrize("stream", STREAMS)
def test_frames_do_not_depend_on_how_the_bytes_arrive(stream: bytes) -> None:
    whole = TcpFramer(max_bytes=16)
    expected = whole.feed(stream) + whole.finish()
    trickle = TcpFramer(max_bytes=16)
    frames = [frame for n in range(len(stream)) for frame in trickle.feed(stream[n:n + 1])] + trickle.finish()
    assert frames == expected and expected


def test_frame_boundaries_and_offsets() -> None:
    nul = TcpFramer(64)
    assert [(f.offset, f.data) for f in nul.feed(b"<14>a\0<14>bc\0")] == [(0, b"<14>a"), (6, b"<14>bc")]
    lines = TcpFramer(64)
    assert [f.data for f in lines.feed(b"404 Not Found\n12 <14>not count\n")] == [b"404 Not Found",
                                                                                   b"12 <14>not count"]
    assert lines.counted is False
    counted = TcpFramer(64)
    assert [(f.offset, f.data) for f in counted.feed(b"5 <14>a404 x\n")] == [(2, b"<14>a")]
    assert counted.counted is True
    assert counted.finish() == [RawLine(7, b"404 x")]  # a count that never completed: what is left, as it was
