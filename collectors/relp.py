"""RELP, the Reliable Event Logging Protocol of rsyslog's ``omrelp``, on a syslog listener (``relp_port``).

Plain TCP syslog loses what sat in the receiver's buffers when it dies: the sender believes it delivered. Over
RELP every message carries a transaction number and is acknowledged only once it is stored or spooled to disk
(``Delivery.submit`` returned), so a sender re-sends, after reconnecting, exactly what was never acknowledged.

A message committed just before a crash (or a network cut) and never acknowledged is re-sent too. It is stored
once because its event id does not depend on the connection: ``(sender, n, message bytes)`` where ``n`` counts
the identical messages before it in the same session — 0 almost always, as a syslog message carries its time;
1, 2… for identical lines in one second (two health checks), which stay distinct events. The re-sent copy
gets the ``n`` of the original and the store keeps one (docs/decisions/0044).

Frames (librelp's relp.txt): ``TXNR SP COMMAND SP DATALEN [SP DATA] LF``; commands ``open``, ``syslog``,
``close``; every one answered by ``TXNR rsp DATALEN DATA LF`` whose data starts with a status code.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from canhgac.collectors.connections import accept_connections, received
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.raw import RawLine

if TYPE_CHECKING:
    from canhgac.collectors.syslog import SyslogServer

log = logging.getLogger(__name__)
HEADER = re.compile(rb"(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})")
OFFERS = b"200 OK\nrelp_version=0\nrelp_software=canhgac\ncommands=syslog"
SEEN_PER_SESSION = 100_000  # message digests remembered per connection for the occurrence count


class RelpError(ValueError):
    pass


@dataclass(frozen=True)
class Frame:
    txnr: int
    command: str
    data: bytes


class RelpReader:
    """RELP frames out of a byte stream, however the stream is cut."""

    def __init__(self, max_data: int) -> None:
        self.max_data = max_data
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Frame]:
        self.buffer += chunk
        frames: list[Frame] = []
        while self.buffer:
            header = HEADER.match(self.buffer)
            if header is None or header.end() == len(self.buffer):
                if len(self.buffer) > 64 or (self.buffer and not self.buffer[:1].isdigit()):
                    raise RelpError(f"not a RELP frame: {bytes(self.buffer[:40])!r}")
                break
            length, start = int(header[3]), header.end()
            if length > self.max_data:
                raise RelpError(f"a frame of {length} bytes; at most {self.max_data}")
            if length == 0:
                end = start
            else:
                if self.buffer[start:start + 1] != b" ":
                    raise RelpError("no space before a frame's data")
                start += 1
                end = start + length
            if len(self.buffer) <= end:
                break  # the rest of the frame, and its trailer, are still on the way
            if self.buffer[end:end + 1] != b"\n":
                raise RelpError("a frame does not end with LF")
            frames.append(Frame(int(header[1]), header[2].decode().lower(), bytes(self.buffer[start:end])))
            del self.buffer[:end + 1]
        return frames


def _occurrence(seen: OrderedDict[bytes, int], data: bytes) -> int:
    """How many identical messages came before this one in the session."""
    digest = hashlib.blake2b(data, digest_size=12).digest()
    count = seen.get(digest, -1) + 1
    seen[digest] = count
    seen.move_to_end(digest)
    if len(seen) > SEEN_PER_SESSION:
        seen.popitem(last=False)
    return count


def response(txnr: int, data: bytes) -> bytes:
    return b"%d rsp %d %s\n" % (txnr, len(data), data) if data else b"%d rsp 0\n" % txnr


class RelpListener:
    """The RELP port of one syslog listener; messages go through the listener's parsers and delivery."""

    def __init__(self, server: SyslogServer) -> None:
        self.server = server
        self.listener = server.listener
        self.source_id = f"syslog-relp:{self.listener.name}"
        self.sock: socket.socket | None = None
        self._decoders: dict[str, tuple[LineDecoder, threading.Lock]] = {}
        self._lock = threading.Lock()
        self._connections = threading.BoundedSemaphore(self.listener.max_connections)

    @classmethod
    def bound(cls, server: SyslogServer) -> RelpListener:
        """Listening already, so that a port in use fails at start-up with its address."""
        relp = cls(server)
        listener = relp.listener
        family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
        relp.sock = socket.socket(family, socket.SOCK_STREAM)
        relp.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        relp.sock.bind((listener.host, listener.relp_port or 0))
        relp.sock.listen(64)
        relp.sock.settimeout(0.2)
        server.board.register(relp.source_id, "syslog-relp", format=listener.format,
                              path=f"relp://{listener.host}:{relp.port}", agency=listener.default_agency)
        return relp

    @property
    def port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])

    def run(self, stop: threading.Event) -> None:
        assert self.sock is not None
        try:
            accept_connections(self.sock, stop, board=self.server.board, source_id=self.source_id,
                               limit=self._connections, serve=self._serve, kind="relp")
        finally:
            self.sock.close()

    # one connection ---------------------------------------------------------------------------------
    def _serve(self, connection: socket.socket, sender: str, stop: threading.Event) -> None:
        reader = RelpReader(self.listener.max_message_bytes + 1024)
        seen: OrderedDict[bytes, int] = OrderedDict()
        try:
            for chunk in received(connection, stop):
                replies, closing = self._answer(reader.feed(chunk), sender, seen)
                connection.sendall(replies)
                if closing:
                    return
            if stop.is_set():
                connection.sendall(b"0 serverclose 0\n")  # shutting down: the sender keeps what is unanswered
        except RelpError as exc:
            self.server.board.error(self.source_id, f"connection from {sender}: {exc}")
            self._send_quietly(connection, b"0 serverclose 0\n")
        except OSError as exc:
            self.server.board.error(self.source_id, f"connection from {sender}: {exc}")
        finally:
            connection.close()
            self._connections.release()

    def _answer(self, frames: list[Frame], sender: str, seen: OrderedDict[bytes, int]) -> tuple[bytes, bool]:
        """The responses to ``frames``: messages acknowledged after their batch is committed, in one write."""
        replies: list[bytes] = []
        messages: list[Frame] = []
        close: Frame | None = None
        for frame in frames:
            if frame.command == "open":
                replies.append(response(frame.txnr, OFFERS))
            elif frame.command == "syslog":
                messages.append(frame)
            elif frame.command == "close":
                close = frame
                break  # nothing a sender sends after its close is answered
            else:
                replies.append(response(frame.txnr, b"500 unknown command " + frame.command.encode()[:32]))
        if messages:
            self._deliver(sender, messages, seen)  # blocks while the store is down and the spool full
            replies += [response(frame.txnr, b"200 OK") for frame in messages]
        if close is not None:
            replies.append(response(close.txnr, b""))
        return b"".join(replies), close is not None

    def _deliver(self, sender: str, messages: list[Frame], seen: OrderedDict[bytes, int]) -> None:
        decoder, in_use = self._decoder(sender)
        with in_use:  # a sender's connections share its decoder, one batch at a time
            lines = [RawLine(_occurrence(seen, frame.data), frame.data.rstrip(b"\r\n\0"))
                     for frame in messages]
            self.server._deliver(self.source_id, decoder, lines, wait=True)

    def _decoder(self, sender: str) -> tuple[LineDecoder, threading.Lock]:
        """One decoder per sender for the life of the process: the stream name, hence the ids, never changes."""
        with self._lock:
            known = self._decoders.get(sender)
            if known is None:
                server = self.server
                agency, system, fmt = server.collection.syslog_owner(sender, self.listener.default_agency)
                origin = Origin(stream=f"syslog-relp:{sender}", path=f"syslog://{sender}", agency=agency,
                                system=system, unowned=None if agency is not None else server._unclaimed(sender))
                decoder = LineDecoder(server._parser(fmt or self.listener.format), origin, server.collection.enricher)
                server.board.reads(self.source_id, origin.path)
                known = self._decoders[sender] = (decoder, threading.Lock())
            return known

    @staticmethod
    def _send_quietly(connection: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(data)
