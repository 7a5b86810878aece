"""The syslog source over 127.0.0.1: framing, senders mapped to systems, UDP drops counted, TCP slowed
down (not dropped) while the store is down and the spool is full."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from canhgac.collectors.raw import RawLine
from canhgac.collectors.service import Collection
from canhgac.collectors.syslog import SyslogServer, TcpFramer
from canhgac.core.config import Settings, parse_settings
from canhgac.storage.base import EventQuery, Store

from tests.collectors import fixtures as fx
from tests.collectors.support import FlakyStore
from tests.conftest import EXAMPLE_CONFIG


def test_tcp_framing_octet_counting_newlines_and_limits() -> None:
    framer = TcpFramer(max_bytes=64)
    stream = b"11 <13>1 - - x12 <13>1 - - yy\n<14>Nov 22 15:04:05 h p: plain\n"
    frames = framer.feed(stream[:7]) + framer.feed(stream[7:])
    assert [f.data for f in frames] == [b"<13>1 - - x", b"<13>1 - - yy", b"<14>Nov 22 15:04:05 h p: plain"]
    assert [f.offset for f in frames] == [3, 17, 30]
    big = TcpFramer(max_bytes=16)
    frames = big.feed(b"40 <13>" + b"a" * 36 + b"3 abc")
    assert [f.data for f in frames] == [b"<13>" + b"a" * 12, b"abc"]
    assert TcpFramer(8).feed(b"x" * 20) == [RawLine(0, b"x" * 8), RawLine(8, b"x" * 8)]
    last = TcpFramer(64)
    assert last.feed(b"no newline at the end") == [] and last.finish() == [RawLine(0, b"no newline at the end")]


def _settings(extra: str = "") -> Settings:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace("    ip_ranges: [10.52.0.0/26]\n", "    ip_ranges: [10.52.0.0/26]\n", 1)
    text += ("\ncollection:\n  syslog:\n    - {name: test, host: 127.0.0.1, udp_port: 0, tcp_port: 0, "
             "default_agency: vpcp" + extra + "}\n")
    return parse_settings(text, "test.yaml")


def _collection(settings: Settings, store: Store, *, spool: bool = False) -> Collection:
    from canhgac.core.directory import Directory

    return Collection(settings, Directory(settings), store,
                      lambda e, d: (store.put_events(e), store.put_dead_letters(d)), spool=spool)


def _wait(predicate, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def running(sqlite_store: Store, home: Path):  # type: ignore[no-untyped-def]
    collection = _collection(_settings(), sqlite_store)
    server = SyslogServer(collection.settings.collection.syslog[0], collection)
    server.bind()
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    thread.start()
    yield server, collection
    stop.set()
    thread.join(5)


def test_udp_and_tcp_messages_become_events_of_the_sender(running, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    server, collection = running
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(fx.SSH_FAILED.encode(), ("127.0.0.1", server.udp_port))
        udp.sendto(fx.FORTIGATE_TRAFFIC.encode() + b"\n", ("127.0.0.1", server.udp_port))
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as tcp:
        five = fx.RFC5424.encode()
        tcp.sendall(b"%d " % len(five) + five + fx.NETFILTER_UFW.encode() + b"\ngarbage that is not syslog\n")
    _wait(lambda: sqlite_store.count_events(EventQuery()) >= 4 and sqlite_store.search_dead_letters())
    events = sqlite_store.search_events(EventQuery(limit=10))
    assert {e["event.module"] for e in events} == {"system", "fortinet", "iptables"}
    assert {e["organization.id"] for e in events} == {"vpcp"}  # 127.0.0.1 is no system's: the default agency
    assert {e["log.file.path"] for e in events} == {"syslog://127.0.0.1"}
    [letter] = sqlite_store.search_dead_letters()
    assert letter.path == "syslog://127.0.0.1" and letter.raw == "garbage that is not syslog"
    statuses = {s.id: s for s in collection.board.snapshot()}
    assert statuses["syslog-udp:test"].events == 2 and statuses["syslog-tcp:test"].dead_letters == 1


def test_senders_map_to_systems_by_syslog_source_or_hostname(sqlite_store: Store, home: Path) -> None:
    settings = _settings()
    data = settings.model_dump(mode="json")
    data["systems"][2]["log_sources"].append({"type": "syslog", "senders": ["127.0.0.0/8"]})
    settings = Settings.model_validate(data)
    collection = _collection(settings, sqlite_store)
    assert collection.syslog_owner("127.0.0.1", "vpcp") == ("binhdinh", "dvc-binhdinh", None)
    assert collection.syslog_owner("10.52.0.70", None) == ("binhdinh", "motcua-binhdinh", None)
    assert collection.syslog_owner("192.0.2.1", None) == (None, None, None)


def test_udp_socket_overflow_is_counted(sqlite_store: Store, home: Path) -> None:
    collection = _collection(_settings(", udp_receive_buffer: 65536"), sqlite_store)
    server = SyslogServer(collection.settings.collection.syslog[0], collection)
    server.bind()  # bound but not read yet: the kernel drops what does not fit
    sent = 3000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for n in range(sent):
            udp.sendto(fx.SSH_FAILED.replace("811", str(n)).encode(), ("127.0.0.1", server.udp_port))
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    thread.start()
    status = collection.board.sources["syslog-udp:test"]
    _wait(lambda: status.events + status.dropped >= sent, 10)
    stop.set()
    thread.join(5)
    assert status.dropped > 0 and status.events + status.dropped == sent
    assert "overflowed" in (status.last_error or "")


def test_tcp_slows_down_instead_of_dropping_while_the_store_is_down(sqlite_store: Store, home: Path,
                                                                     tmp_path: Path) -> None:
    flaky = FlakyStore(sqlite_store)
    flaky.stop_for(3600)
    settings = _settings()
    collection = _collection(settings, flaky, spool=True)  # type: ignore[arg-type]
    assert collection.delivery.spool is not None
    collection.delivery.spool.max_bytes = 100_000
    server = SyslogServer(settings.collection.syslog[0], collection)
    server.bind()
    stop = threading.Event()
    threads = [threading.Thread(target=server.run, args=(stop,)), threading.Thread(target=collection.delivery.run,
                                                                                    args=(stop,))]
    for thread in threads:
        thread.start()
    total = 40_000
    payload = b"".join(fx.SSH_FAILED.replace("[811]", f"[{n}]").encode() + b"\n" for n in range(total))
    sender = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    sender.connect(("127.0.0.1", server.tcp_port))
    sender.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 3
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            sent += sender.send(payload[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.01)
    assert sent < len(payload), "the sender was never slowed down"
    assert collection.delivery.spool.count > 0
    flaky.stop_for(0)  # the store is back: everything flows
    sender.settimeout(30)
    sender.sendall(payload[sent:])
    sender.close()
    _wait(lambda: sqlite_store.count_events(EventQuery()) >= total, 30)
    stop.set()
    for thread in threads:
        thread.join(5)
    collection.close()
    assert sqlite_store.count_events(EventQuery()) == total
    assert collection.board.sources["syslog-tcp:test"].dropped == 0
