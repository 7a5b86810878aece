"""Syslog over TCP: where one message ends and the next begins (RFC 6587; see docs/decisions/0007).

A connection is framed one way from its first message to its last, decided by how the first frame starts:
``LEN SP <PRI>`` is octet counting (rsyslog ``TCP_Framing="octet-counted"``, syslog-ng ``syslog()``);
anything else ends each message at a newline or a NUL (Python ``SysLogHandler`` ends TCP frames with NUL and no
newline). So a newline-framed message that starts with digits (``404 …``) is never taken for a count.
"""

from __future__ import annotations

import re

from canhgac.collectors.raw import RawLine

_COUNTED_START = re.compile(rb"[1-9]\d{0,9} <\d{1,3}>")
_UNDECIDED = re.compile(rb"\d{1,10}(?: (?:<\d{0,3})?)?")  # a beginning that could still be either
_COUNT = re.compile(rb"(\d{1,10}) ")
_DIGITS_SO_FAR = re.compile(rb"\d{1,10} ?")
_END = re.compile(rb"[\n\0]")
_SEPARATORS = b"\r\n\0"


class TcpFramer:
    """Splits one connection's byte stream into messages, each with its byte offset in the connection."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.counted: bool | None = None  # octet counting, once the first frame has said so
        self._buffer = b""
        self._start = 0  # connection offset of the buffer's first byte
        self._skip = 0  # bytes of an oversized octet-counted frame still to discard

    def feed(self, chunk: bytes) -> list[RawLine]:
        buffer = self._buffer + chunk
        frames: list[RawLine] = []
        position = 0
        size = len(buffer)
        while position < size:
            if self._skip:
                dropped = min(self._skip, size - position)
                position += dropped
                self._skip -= dropped
                continue
            if buffer[position] in _SEPARATORS:
                position += 1
                continue
            if self.counted is None:
                if _UNDECIDED.fullmatch(buffer, position):
                    break  # ``123``, ``123 <1`` so far: the next bytes decide
                self.counted = _COUNTED_START.match(buffer, position) is not None
            found = self._counted(buffer, position, frames) if self.counted else None
            if found is None:
                found = self._terminated(buffer, position, frames)
            if found < 0:
                break
            position = found
        self._buffer = buffer[position:]
        self._start += position
        return frames

    def _counted(self, buffer: bytes, position: int, frames: list[RawLine]) -> int | None:
        """``LEN SP MSG``: the position after it, -1 to wait for more bytes, None if this is no count."""
        header = _COUNT.match(buffer, position)
        if header is None:
            return -1 if _DIGITS_SO_FAR.fullmatch(buffer, position) else None
        length = int(header.group(1))
        body = header.end()
        end = body + length
        if length > self.max_bytes:  # keep what fits, discard the rest as it arrives
            if len(buffer) - body < self.max_bytes:
                return -1
            frames.append(RawLine(self._start + body, buffer[body:body + self.max_bytes]))
            self._skip = max(0, end - len(buffer))
            return min(end, len(buffer))
        if end > len(buffer):
            return -1
        frames.append(RawLine(self._start + body, buffer[body:end].rstrip(_SEPARATORS)))
        return end

    def _terminated(self, buffer: bytes, position: int, frames: list[RawLine]) -> int:
        """A message ended by a newline or a NUL: the position after it, or -1 to wait for more bytes."""
        end = _END.search(buffer, position)
        if end is None:
            if len(buffer) - position > self.max_bytes:  # an endless line: cut it
                frames.append(RawLine(self._start + position, buffer[position:position + self.max_bytes]))
                return position + self.max_bytes
            return -1
        frames.append(RawLine(self._start + position, buffer[position:end.start()].rstrip(b"\r")))
        return end.end()

    def finish(self) -> list[RawLine]:
        """At the end of the connection, what is left is one last message."""
        rest = self._buffer.rstrip(b"\r\n\0 ")
        self._buffer = b""
        return [RawLine(self._start, rest)] if rest and not self._skip else []
