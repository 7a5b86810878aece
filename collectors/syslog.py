"""The syslog source: one listener on UDP and/or TCP (see docs/decisions/0007-syslog-framing.md).

UDP: one message per datagram. Drops are counted, both those the kernel makes when the socket buffer
overflows (``SO_RXQ_OVFL``) and those we make when the store is down and the spool is full.
TCP: octet-counting (``123 <34>1 …``, RFC 6587 §3.4.1) or newline/NUL framing, decided per connection by its
first frame (collectors/framing.py). A connection is read only as fast as batches are accepted, so when the
store and the spool are full the sender is slowed by TCP flow control instead of losing messages.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import struct
import threading
import time

from canhgac.collectors.connections import accept_connections, received
from canhgac.collectors.context import SourceContext
from canhgac.collectors.delivery import Batch
from canhgac.collectors.framing import TcpFramer
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import Parser
from canhgac.collectors.parsers.syslog import SyslogParser
from canhgac.collectors.raw import RawLine
from canhgac.collectors.status import flag_counts
from canhgac.core.config_collection import SyslogInput

__all__ = ["SyslogServer", "TcpFramer"]
log = logging.getLogger(__name__)
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)  # Linux; Python does not name it
_OVERFLOW = struct.Struct("=I")
MAX_DATAGRAM = 65535
UDP_BATCH = 2000
UDP_LINGER = 0.05  # how long a UDP batch may wait to fill up


class SyslogServer:
    def __init__(self, listener: SyslogInput, collection: SourceContext) -> None:
        self.listener = listener
        self.collection = collection
        self.board = collection.board
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self.udp_id = f"syslog-udp:{listener.name}"
        self.tcp_id = f"syslog-tcp:{listener.name}"
        self._decoders: dict[str, LineDecoder] = {}
        self._sequence = itertools.count(time.time_ns())
        self._kernel_drops = 0
        self._next_proc_check = 0.0
        self._connections = threading.BoundedSemaphore(listener.max_connections)

    # sockets ----------------------------------------------------------------------------------------
    def bind(self) -> None:
        """Open the sockets (fails at once, with the address, if a port is taken)."""
        listener = self.listener
        family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
        if listener.udp_port is not None:
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, listener.udp_receive_buffer)
            try:
                self.udp.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            except OSError:
                log.info("this system does not report UDP socket overflows; only our own drops are counted")
            self.udp.bind((listener.host, listener.udp_port))
            self.udp.settimeout(0.2)
            self.board.register(self.udp_id, "syslog-udp", format=listener.format,
                                path=f"udp://{listener.host}:{self.udp.getsockname()[1]}",
                                agency=listener.default_agency)
        if listener.tcp_port is not None:
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind((listener.host, listener.tcp_port))
            self.tcp.listen(64)
            self.tcp.settimeout(0.2)
            self.board.register(self.tcp_id, "syslog-tcp", format=listener.format,
                                path=f"tcp://{listener.host}:{self.tcp.getsockname()[1]}",
                                agency=listener.default_agency)

    @property
    def udp_port(self) -> int | None:
        return self.udp.getsockname()[1] if self.udp is not None else None

    @property
    def tcp_port(self) -> int | None:
        return self.tcp.getsockname()[1] if self.tcp is not None else None

    def run(self, stop: threading.Event) -> None:
        threads = []
        if self.tcp is not None:
            threads.append(threading.Thread(target=self._accept, args=(stop,), name="syslog-tcp", daemon=True))
        for thread in threads:
            thread.start()
        try:
            if self.udp is not None:
                self._receive(stop)
            else:
                stop.wait()
        finally:
            for thread in threads:
                thread.join(timeout=5)
            for sock in (self.udp, self.tcp):
                if sock is not None:
                    sock.close()

    # whose messages ---------------------------------------------------------------------------------
    def _decoder(self, stream: str, sender: str) -> LineDecoder:
        decoder = self._decoders.get(stream)
        if decoder is None:
            agency, system, fmt = self.collection.syslog_owner(sender, self.listener.default_agency)
            origin = Origin(stream=stream, path=f"syslog://{sender}", agency=agency, system=system,
                            unowned=None if agency is not None else self._unclaimed(sender))
            decoder = LineDecoder(self._parser(fmt or self.listener.format), origin, self.collection.enricher)
            self.board.reads(self.udp_id if stream.startswith("syslog-udp:") else self.tcp_id, origin.path)
            if len(self._decoders) > 10000:
                self._decoders.clear()
            self._decoders[stream] = decoder
        return decoder

    def _parser(self, fmt: str) -> Parser:
        """A syslog reader; a format that is not a syslog one (nginx, a JSON mapping…) reads each body."""
        parser = self.collection.parser(fmt, self.listener.timezone)
        if isinstance(parser, SyslogParser):
            return parser
        envelope = self.collection.parser("syslog", self.listener.timezone)
        assert isinstance(envelope, SyslogParser)
        return envelope.carrying(parser)

    def _unclaimed(self, sender: str) -> str:
        return (f"syslog sender {sender} on listener {self.listener.name!r} belongs to no system (no type: syslog "
                f"log source lists it, no system's ip_ranges hold it) and the listener has no default_agency; "
                f"the host name in a message never chooses the agency")

    def _deliver(self, source_id: str, decoder: LineDecoder, frames: list[RawLine], *, wait: bool) -> bool:
        events, letters = decoder.decode(frames)
        self.board.read(source_id, lines=len(frames), events=len(events), dead_letters=len(letters),
                        **flag_counts(events),
                        newest=max((e["@timestamp"] for e in events), default=None))
        return self.collection.delivery.submit(Batch(source_id, events, letters, {}, len(frames)), wait=wait)

    # UDP --------------------------------------------------------------------------------------------
    def _receive(self, stop: threading.Event) -> None:
        assert self.udp is not None
        pending: dict[str, list[RawLine]] = {}
        count = 0
        deadline = time.monotonic() + UDP_LINGER
        while not stop.is_set():
            try:
                data, ancillary, _flags, address = self.udp.recvmsg(MAX_DATAGRAM, socket.CMSG_SPACE(4))
            except TimeoutError:
                data = None
            except OSError as exc:
                self.board.error(self.udp_id, f"receiving: {exc}")
                data = None
            if time.monotonic() >= self._next_proc_check:
                self._proc_overflow()
            if data is not None:
                self._overflow(ancillary)
                message = data.rstrip(b"\r\n\0")
                if message:
                    pending.setdefault(address[0], []).append(RawLine(next(self._sequence), message))
                    count += 1
            if count and (count >= UDP_BATCH or time.monotonic() >= deadline or data is None):
                self._flush_udp(pending)
                pending, count = {}, 0
            if not count:
                deadline = time.monotonic() + UDP_LINGER
        if pending:
            self._flush_udp(pending)
        self._proc_overflow()

    def _flush_udp(self, pending: dict[str, list[RawLine]]) -> None:
        for sender, frames in pending.items():
            decoder = self._decoder(f"syslog-udp:{sender}", sender)
            if not self._deliver(self.udp_id, decoder, frames, wait=False):
                self.board.dropped(self.udp_id, len(frames))
                self.board.error(self.udp_id, f"store down and spool full: {len(frames)} datagrams dropped")

    def _overflow(self, ancillary: list[tuple[int, int, bytes]]) -> None:
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(value) >= 4:
                self._kernel_dropped(_OVERFLOW.unpack(value[:4])[0])

    def _proc_overflow(self) -> None:
        """Where ``SO_RXQ_OVFL`` is not delivered, the socket's ``drops`` column of /proc/net/udp says it."""
        self._next_proc_check = time.monotonic() + 0.5
        assert self.udp is not None
        inode = str(os.fstat(self.udp.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                with open(table) as rows:
                    for row in rows:
                        columns = row.split()
                        if len(columns) >= 13 and columns[9] == inode and columns[-1].isdigit():
                            self._kernel_dropped(int(columns[-1]))
                            return
            except OSError:
                continue

    def _kernel_dropped(self, total: int) -> None:
        if total > self._kernel_drops:
            self.board.dropped(self.udp_id, total - self._kernel_drops)
            self.board.error(self.udp_id, f"the socket buffer overflowed: {total} datagrams dropped so far")
            self._kernel_drops = total

    # TCP --------------------------------------------------------------------------------------------
    def _accept(self, stop: threading.Event) -> None:
        assert self.tcp is not None
        accept_connections(self.tcp, stop, board=self.board, source_id=self.tcp_id, limit=self._connections,
                           serve=self._serve, kind="tcp")

    def _serve(self, connection: socket.socket, sender: str, stop: threading.Event) -> None:
        stream = f"syslog-tcp:{sender}:{time.time_ns()}"
        decoder = self._decoder(stream, sender)
        framer = TcpFramer(self.listener.max_message_bytes)
        try:
            for chunk in received(connection, stop):
                frames = framer.feed(chunk)
                if frames:
                    # Blocks while the store is down and the spool is full: we stop reading, TCP slows the sender.
                    self._deliver(self.tcp_id, decoder, frames, wait=True)
            rest = framer.finish()
            if rest:
                self._deliver(self.tcp_id, decoder, rest, wait=True)
        except OSError as exc:
            self.board.error(self.tcp_id, f"connection from {sender}: {exc}")
        finally:
            self._decoders.pop(stream, None)
            connection.close()
            self._connections.release()
