"""Stream listeners' shared plumbing: accept connections on threads, read what a peer sends until it closes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

from canhgac.collectors.status import StatusBoard

Serve = Callable[[socket.socket, str, threading.Event], None]


def accept_connections(listening: socket.socket, stop: threading.Event, *, board: StatusBoard, source_id: str,
                       limit: threading.Semaphore, serve: Serve, kind: str) -> None:
    """Accept until ``stop``; each connection is served on its own thread, at most ``limit`` at once."""
    while not stop.is_set():
        try:
            connection, address = listening.accept()
        except TimeoutError:
            continue
        except OSError as exc:
            if stop.is_set():
                return
            board.error(source_id, f"accepting: {exc}")
            continue
        if not limit.acquire(blocking=False):
            board.error(source_id, f"too many connections; refused {address[0]}")
            connection.close()
            continue
        threading.Thread(target=serve, args=(connection, address[0], stop), daemon=True,
                         name=f"syslog-{kind}-{address[0]}").start()


def received(connection: socket.socket, stop: threading.Event) -> Iterator[bytes]:
    """What the peer sends, chunk by chunk, until it closes or ``stop`` is set (the timeout lets it be seen)."""
    connection.settimeout(0.5)
    while not stop.is_set():
        try:
            chunk = connection.recv(1 << 18)
        except TimeoutError:
            continue
        if not chunk:
            return
        yield chunk
