"""Issue 14, item 1: a syslog message's body is read by what it is, whatever relay wrapped it.

Each wrapping is what a real sender puts on the wire (rsyslog 8.2302's stock templates around an imfile line, as
captured from rsyslogd here, with ``Tag="auth:"``, ``Tag="nginx"`` and ``Tag=""``; syslog-ng,
nginx ``access_log syslog:``, Python's ``SysLogHandler``), sent over a real socket to the listener; every stored
event must equal, field for field, what a plain ingest of the original line (``--source nginx`` / ``auth``) gives.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from canhgac.collectors.parsers import ParserOptions, get_parser
from canhgac.collectors.syslog import SyslogServer
from canhgac.storage.base import AlertQuery, EventQuery, Store
from canhgac.storage.sqlite import SqliteStore

from canhgac.runtime import Runtime
from tests.collectors import syslog_support as sy

Wrap = Callable[[str, str, datetime], str]  # (original line, imfile tag, relay's time) → the message sent


def _rsyslog_traditional(line: str, tag: str, relay: datetime) -> str:  # omfwd's default template
    return f"<133>{sy.bsd(relay)} relay01 {tag}: {line}"


def _rsyslog_forward(line: str, tag: str, relay: datetime) -> str:  # RSYSLOG_ForwardFormat
    return f"<133>{sy.iso(relay)} relay01 {tag}: {line}"


def _rsyslog_forward_untagged(line: str, tag: str, relay: datetime) -> str:  # imfile without Tag=
    return f"<133>{sy.iso(relay)} relay01  {line}"


def _rsyslog_protocol23(line: str, tag: str, relay: datetime) -> str:  # RSYSLOG_SyslogProtocol23Format
    return f"<133>1 {sy.iso(relay)} relay01 {tag} - - - {line}"


def _rsyslog_protocol23_untagged(line: str, tag: str, relay: datetime) -> str:  # imfile Tag="": no APP-NAME
    return f"<133>1 {sy.iso(relay)} relay01 - - - - {line}"


def _rsyslog_tag_without_colon(line: str, tag: str, relay: datetime) -> str:  # imfile Tag="nginx", as captured
    return f"<133>{sy.bsd(relay)} relay01 {tag} {line}"


def _rsyslog_forward_tag_without_colon(line: str, tag: str, relay: datetime) -> str:
    return f"<133>{sy.iso(relay)} relay01 {tag} {line}"


_FILE_LINE = re.compile(r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: ?(.*)")


def _syslog_ng_network(line: str, tag: str, relay: datetime) -> str:
    """syslog-ng 3.38 ``network()``, as captured here: a file line it parsed as syslog keeps its header; one it
    could not (an access line) gets syslog-ng's time and host."""
    if _FILE_LINE.match(line):
        return f"<13>{line}"
    return f"<13>{sy.bsd(relay)} relay01 {line}"


def _syslog_ng_syslog(line: str, tag: str, relay: datetime) -> str:
    """syslog-ng 3.38 ``syslog()`` (RFC 5424), as captured here: a parsed line's time (in the relay's zone, here
    Vietnam's), host, program and pid become the header; a line it could not parse is cut at its first space
    or colon, the first piece taken for the program (``203.0.113.9`` then ``- - [02/Dec…``)."""
    parsed = _FILE_LINE.match(line)
    if parsed is not None:
        when, host, program, pid, message = parsed.groups()
        moment = datetime.strptime(f"{relay.astimezone(sy.LOCAL).year} {when}", "%Y %b %d %H:%M:%S")
        stamp = moment.replace(tzinfo=sy.LOCAL).isoformat()
        return f'<13>1 {stamp} {host} {program} {pid or "-"} - [meta sequenceId="1"] {message}'
    cut = re.search(r"[ :]", line)
    assert cut is not None
    return f'<13>1 {sy.iso(relay)} relay01 {line[:cut.start()]} - - [meta sequenceId="2"] {line[cut.end():]}'


def _nginx_access_log_syslog(line: str, tag: str, relay: datetime) -> str:  # access_log syslog:server=…
    return f"<190>{sy.bsd(relay)} dvc-web01 nginx: {line}"


WRAPPINGS: dict[str, Wrap] = {
    "rsyslog-traditional": _rsyslog_traditional, "rsyslog-forward": _rsyslog_forward,
    "rsyslog-forward-untagged": _rsyslog_forward_untagged, "rsyslog-protocol23": _rsyslog_protocol23,
    "rsyslog-protocol23-untagged": _rsyslog_protocol23_untagged,
    "rsyslog-tag-without-colon": _rsyslog_tag_without_colon,
    "rsyslog-forward-tag-without-colon": _rsyslog_forward_tag_without_colon,
    "syslog-ng-network": _syslog_ng_network, "syslog-ng-syslog": _syslog_ng_syslog,
}


def _send(server: Any, transport: str, messages: list[str]) -> None:
    if transport == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for text in messages:
                udp.sendto(text.encode(), ("127.0.0.1", server.udp_port))
        return
    if transport == "tcp-octet":
        payload = b"".join(b"%d %s" % (len(text.encode()), text.encode()) for text in messages)
    else:
        payload = b"".join(text.encode() + b"\n" for text in messages)
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as tcp:
        tcp.sendall(payload)


def _plain(collection: Any, tmp_path: Path, lines: list[str], fmt: str) -> None:
    """Store what ``canhgac ingest --source FMT`` makes of these lines (the reference)."""
    path = sy.write_lines(tmp_path / f"{fmt}.log", lines)
    collection.ingest_file(path, fmt, collection.file_origin(path, agency="vpcp", system=None))


def _stored(store: Store) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    events = store.search_events(EventQuery(limit=1000))
    plain = {e["event.original"]: e for e in events if not e["log.file.path"].startswith("syslog://")}
    relayed = [e for e in events if e["log.file.path"].startswith("syslog://")]
    return plain, relayed


def _assert_same_as_plain(plain: dict[str, dict[str, Any]], relayed: list[dict[str, Any]], *,
                          web_lines: list[str]) -> None:
    assert relayed, "nothing arrived"
    for event in relayed:
        [line] = [line for line in plain if line[-40:] in event["event.original"]]
        reference = plain[line]
        for key in sy.COMPARED:
            if line in web_lines and key in ("host.hostname", "process.name", "process.pid"):
                continue  # an access line names no host: the syslog header's is all there is
            assert event.get(key) == reference.get(key), (key, event["event.original"])
    assert len(relayed) == len(plain)


@pytest.mark.parametrize(("wrapping", "transport"), [
    ("rsyslog-traditional", "tcp-newline"), ("rsyslog-traditional", "udp"),
    ("rsyslog-forward", "tcp-newline"), ("rsyslog-forward-untagged", "udp"),
    ("rsyslog-protocol23", "tcp-octet"), ("rsyslog-protocol23", "udp"),
    ("rsyslog-protocol23-untagged", "tcp-octet"), ("rsyslog-tag-without-colon", "tcp-newline"),
    ("rsyslog-forward-tag-without-colon", "udp"),
    ("syslog-ng-network", "tcp-newline"), ("syslog-ng-syslog", "tcp-octet"),
])
def test_a_relayed_line_is_the_event_a_plain_ingest_makes(wrapping: str, transport: str, sqlite_store: Store,
                                                           home: Path, tmp_path: Path) -> None:
    web, auth = sy.original_lines()
    relay = datetime.now(UTC)
    wrap = WRAPPINGS[wrapping]
    messages = [wrap(line, "nginx", relay) for line in web] + [wrap(line, "auth", relay) for line in auth]
    with sy.listening(sy.settings(), sqlite_store) as (server, collection):
        _send(server, transport, messages)
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= len(messages))
        _plain(collection, tmp_path, web, "nginx")
        _plain(collection, tmp_path, auth, "auth")
    plain, relayed = _stored(sqlite_store)
    assert not sqlite_store.search_dead_letters()
    _assert_same_as_plain(plain, relayed, web_lines=web)
    unwrapped = [e for e in relayed if e.get("event.dataset") == "system.auth"]
    assert {e["host.hostname"] for e in unwrapped} == {"dvc-web01"}  # the original line's host, not the relay's
    if wrapping.startswith("rsyslog"):
        assert {e["log.syslog.hostname"] for e in unwrapped} == {"relay01"}  # the relay, kept aside
    if wrapping == "syslog-ng-syslog":
        assert "203.0.113.9" in {e.get("source.ip") for e in relayed}  # the client the program name had taken
    attacks = [e for e in relayed if "OR '1'='1" in e.get("url.query", "")]
    assert len(attacks) == 6 and all(e["event.dataset"] == "nginx.access" for e in attacks)


def test_nginx_access_log_syslog_and_python_syslog_handler(sqlite_store: Store, home: Path, tmp_path: Path) -> None:
    web, _ = sy.original_lines()
    with sy.listening(sy.settings(), sqlite_store) as (server, collection):
        _send(server, "udp", [_nginx_access_log_syslog(line, "", datetime.now(UTC)) for line in web])
        for socktype in (socket.SOCK_DGRAM, socket.SOCK_STREAM):  # the standard library's handler, stock settings
            port = server.udp_port if socktype == socket.SOCK_DGRAM else server.tcp_port
            handler = logging.handlers.SysLogHandler(("127.0.0.1", port), facility=logging.handlers.SysLogHandler.
                                                     LOG_LOCAL7, socktype=socktype)
            logger = logging.getLogger(f"canhgac-test-app-{socktype}")
            logger.propagate = False
            logger.addHandler(handler)
            for line in web:
                logger.warning(line)
            handler.close()
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= 3 * len(web))
        _plain(collection, tmp_path, web, "nginx")
    plain, relayed = _stored(sqlite_store)
    assert not sqlite_store.search_dead_letters()
    assert len(relayed) == 3 * len(web)
    for event in relayed:
        [line] = [line for line in plain if line[-40:] in event["event.original"]]
        for key in sy.COMPARED:
            if key not in ("host.hostname", "process.name", "process.pid"):
                assert event.get(key) == plain[line].get(key), key
    assert "source.address" not in {key for e in relayed for key in e}  # no ``<190>`` glued to the client
    assert {e["log.syslog.priority"] for e in relayed} == {190, 188}  # local7.info from nginx, local7.warning


def test_a_listener_format_reads_the_body_not_the_frame(sqlite_store: Store, home: Path, tmp_path: Path) -> None:
    web, _ = sy.original_lines()
    relay = datetime.now(UTC)
    messages = [_rsyslog_forward(line, "web01-access", relay) for line in web]  # a tag that says nothing
    messages.append(_rsyslog_forward("an upstream timed out (110: Connection timed out)", "web01-access", relay))
    with sy.listening(sy.settings(", format: nginx"), sqlite_store) as (server, collection):
        _send(server, "tcp-newline", messages)
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= len(messages))
        _plain(collection, tmp_path, web, "nginx")
    plain, relayed = _stored(sqlite_store)
    assert not sqlite_store.search_dead_letters()  # it used to be one dead letter per frame
    [unread] = [e for e in relayed if "upstream timed out" in e["event.original"]]
    assert unread["tags"] == ["unparsed_body"] and unread["event.dataset"] == "system.syslog"
    relayed.remove(unread)
    _assert_same_as_plain(plain, relayed, web_lines=web)
    statuses = {s.id: s for s in collection.board.snapshot()}
    assert statuses["syslog-tcp:test"].flagged == 1  # the unread body shows on the source


def test_a_sender_format_applies_to_its_bodies(sqlite_store: Store, home: Path) -> None:
    config = sy.settings()
    data = config.model_dump(mode="json")
    data["systems"][2]["log_sources"].append({"type": "syslog", "senders": ["127.0.0.1"], "format": "apache"})
    config = type(config).model_validate(data)
    web, _ = sy.original_lines()
    with sy.listening(config, sqlite_store) as (server, _collection):
        _send(server, "udp", [_rsyslog_forward(line, "access", datetime.now(UTC)) for line in web])
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= len(web))
    events = sqlite_store.search_events(EventQuery(limit=100))
    assert len(events) == len(web) and {e["event.dataset"] for e in events} == {"apache.access"}


def test_pri_only_and_header_less_messages(sqlite_store: Store, home: Path) -> None:
    with sy.listening(sy.settings(), sqlite_store) as (server, _collection):
        _send(server, "udp", ["<14>myapp[42]: cache warmed in 12 ms", "<14>no tag, no time", "no header at all"])
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= 2 and bool(sqlite_store.search_dead_letters()))
    events = {e["message"]: e for e in sqlite_store.search_events(EventQuery(limit=10))}
    tagged = events["cache warmed in 12 ms"]
    assert (tagged["process.name"], tagged["process.pid"], tagged["log.syslog.severity.code"]) == ("myapp", 42, 6)
    assert "process.name" not in events["no tag, no time"]
    [letter] = sqlite_store.search_dead_letters()
    assert letter.raw == "no header at all"  # no <PRI>, no header, no format that reads it: not syslog


def test_event_ids_come_from_the_frame_and_its_position(sqlite_store: Store, home: Path) -> None:
    web, _ = sy.original_lines()
    frame = _rsyslog_protocol23(web[0], "nginx", datetime.now(UTC)).encode()
    with sy.listening(sy.settings(), sqlite_store) as (server, _collection):
        with socket.create_connection(("127.0.0.1", server.tcp_port)) as tcp:
            tcp.sendall(b"%d %s%d %s" % (len(frame), frame, len(frame), frame))  # the same message twice
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= 2)
    events = sorted(sqlite_store.search_events(EventQuery(limit=10)), key=lambda e: e["log.offset"])
    header = len(b"%d " % len(frame))
    assert [e["log.offset"] for e in events] == [header, 2 * header + len(frame)]
    assert {e["event.original"] for e in events} == {frame.decode()}
    assert events[0]["event.id"] != events[1]["event.id"]  # two genuine identical messages stay two
    assert events[0]["url.path"] == "/tra-cuu"


@pytest.mark.parametrize(("relay", "inner", "in_vietnam", "in_utc"), [
    ("2025-12-31T23:59:59+07:00", "Dec 31 23:59:58", "2025-12-31T16:59:58.000Z", "2025-12-31T23:59:58.000Z"),
    ("2026-01-01T00:00:05+07:00", "Dec 31 23:59:58", "2025-12-31T16:59:58.000Z", "2025-12-31T23:59:58.000Z"),
    ("2026-12-02T05:21:00.5+07:00", "Dec  2 05:20:43", "2026-12-01T22:20:43.000Z", "2026-12-02T05:20:43.000Z"),
])
def test_an_inner_rfc3164_time_takes_its_year_from_the_relay_and_its_zone_from_the_source(
        relay: str, inner: str, in_vietnam: str, in_utc: str) -> None:
    line = f"<133>1 {relay} relay01 auth - - - {inner} dvc-web01 sshd[1]: Failed password for root from 1.2.3.4 port 1"
    assert get_parser("syslog").parse(line)["@timestamp"] == in_vietnam  # type: ignore[index]
    assert get_parser("syslog", ParserOptions(zone=UTC)).parse(line)["@timestamp"] == in_utc  # type: ignore[index]


def _alert_titles(store: Store) -> set[tuple[str, str]]:
    return {(alert.rule_title, alert.entities.get("source.ip", "")) for alert in store.search_alerts(AlertQuery())}


def test_relayed_attacks_raise_the_alerts_a_plain_ingest_raises(sqlite_store: Store, home: Path,
                                                                tmp_path: Path) -> None:
    web, _ = sy.original_lines()
    start = datetime.now(UTC) - timedelta(minutes=5)
    auth = [f"{sy.bsd(start + timedelta(seconds=2 * n))} dvc-web01 sshd[{3000 + n}]: Failed password for root from "
            f"203.0.113.45 port {41000 + n} ssh2" for n in range(12)]
    config = sy.settings()
    relayed = Runtime.build(config, store=sqlite_store)
    server = SyslogServer(config.collection.syslog[0], relayed.collection())
    server.bind()
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    thread.start()
    try:
        relay = datetime.now(UTC)
        _send(server, "tcp-newline", [_rsyslog_traditional(line, "nginx", relay) for line in web])
        _send(server, "udp", [_rsyslog_protocol23(line, "auth", relay) for line in auth])
        sy.wait(lambda: sqlite_store.count_events(EventQuery()) >= len(web) + len(auth))
    finally:
        stop.set()
        thread.join(5)
    relayed.collection().close()
    reference_store = SqliteStore(tmp_path / "reference.db")
    plain = Runtime.build(config, store=reference_store)
    for lines, fmt in ((web, "nginx"), (auth, "auth")):
        path = sy.write_lines(tmp_path / f"{fmt}.log", lines)
        plain.collection().ingest_file(path, fmt, plain.collection().file_origin(path, agency="vpcp", system=None))
    plain.collection().close()
    expected = _alert_titles(reference_store)
    assert ("SQL Injection Attempt in the Request", "203.0.113.9") in expected
    assert ("SSH Brute Force", "203.0.113.45") in expected
    assert _alert_titles(sqlite_store) == expected
    reference_store.close()
