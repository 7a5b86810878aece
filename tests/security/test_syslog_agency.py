"""Finding: a syslog sender that no system claims, on a listener without ``default_agency``, was attributed to
the agency whose host name the message named. The message's host name never chooses an agency: such lines are
dead letters naming the sender and the listener."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from canhgac.collectors.service import Collection
from canhgac.collectors.syslog import SyslogServer
from canhgac.core.config import Settings, parse_settings
from canhgac.core.directory import Directory
from canhgac.storage.base import EventQuery, Store

from tests.conftest import EXAMPLE_CONFIG

# An sshd failure that names the national portal as its host: what a forger sends to open a VPCP incident.
FORGED = ("<38>1 2026-11-22T08:09:00.000Z dichvucong.gov.vn sshd 816 - - "
          "Failed password for root from 203.0.113.77 port 40000 ssh2")
OWN_HOST = FORGED.replace("dichvucong.gov.vn", "motcua.binhdinh.gov.vn")


def _settings(listener: str) -> Settings:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text += f"\ncollection:\n  syslog:\n    - {{name: edge, host: 127.0.0.1, udp_port: 0, tcp_port: 0{listener}}}\n"
    return parse_settings(text, "test.yaml")


@pytest.fixture
def listen(sqlite_store: Store, home: Path) -> Iterator:  # type: ignore[type-arg]
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start(listener: str = "") -> SyslogServer:
        settings = _settings(listener)
        collection = Collection(settings, Directory(settings), sqlite_store,
                                lambda e, d: (sqlite_store.put_events(e), sqlite_store.put_dead_letters(d)))
        server = SyslogServer(settings.collection.syslog[0], collection)
        server.bind()
        stop = threading.Event()
        thread = threading.Thread(target=server.run, args=(stop,))
        thread.start()
        stops.append((stop, thread))
        return server

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(5)


def _send_tcp(server: SyslogServer, *messages: str) -> None:
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as tcp:
        tcp.sendall(b"".join(m.encode() + b"\n" for m in messages))


def _wait(predicate, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_unclaimed_sender_without_default_agency_is_a_dead_letter(listen, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    server = listen()
    _send_tcp(server, FORGED)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(FORGED.encode(), ("127.0.0.1", server.udp_port))
    _wait(lambda: len(sqlite_store.search_dead_letters()) >= 2 or sqlite_store.count_events(EventQuery()) >= 2)
    assert sqlite_store.count_events(EventQuery()) == 0  # no VPCP event, hence no VPCP incident
    letters = sqlite_store.search_dead_letters()
    assert len(letters) == 2
    for letter in letters:
        assert letter.agency is None and letter.raw == FORGED
        assert "127.0.0.1" in letter.reason and "edge" in letter.reason and "default_agency" in letter.reason


def test_host_name_in_a_message_picks_only_a_system_of_the_listener_agency(listen, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    server = listen(", default_agency: binhdinh")
    _send_tcp(server, FORGED, OWN_HOST)
    _wait(lambda: sqlite_store.count_events(EventQuery()) >= 2)
    events = {e["host.hostname"]: e for e in sqlite_store.search_events(EventQuery(limit=10))}
    assert {e["organization.id"] for e in events.values()} == {"binhdinh"}
    assert "service.id" not in events["dichvucong.gov.vn"]  # the national portal is not Bình Định's
    assert events["motcua.binhdinh.gov.vn"]["service.id"] == "motcua-binhdinh"
