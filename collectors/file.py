"""The file source's reader: complete lines from a byte offset, of a plain or gzip-compressed file."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO

from canhgac.collectors.lines import MAX_LINE_BYTES, RawLine
from canhgac.collectors.rotation import HEAD_BYTES, is_compressed

CHUNK = 1 << 20
#: A line longer than this is cut here and the rest skipped, so one endless line cannot exhaust memory.
MAX_BUFFERED_LINE = max(MAX_LINE_BYTES * 8, CHUNK)


class FileReader:
    """Reads complete lines of one open file. ``offset`` is where the next unread line starts: the value
    to checkpoint once the lines handed out so far are safely stored. Offsets of a ``.gz`` file count
    uncompressed bytes, which are the offsets the lines had in the live file before it was rotated."""

    def __init__(self, path: str | Path, offset: int = 0) -> None:
        self.path = Path(path)
        self.compressed = is_compressed(self.path)
        self._raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 — held open to follow the inode
        stat = os.fstat(self._raw.fileno())
        self.device, self.inode = stat.st_dev, stat.st_ino
        self._file: BinaryIO = gzip.GzipFile(fileobj=self._raw, mode="rb") if self.compressed else self._raw
        if offset:
            self._file.seek(offset)
        self.offset = offset
        self._buffer = b""
        self._skipping = False  # inside an over-long line whose head was already handed out

    def read(self, max_lines: int, *, final: bool = False) -> list[RawLine]:
        """Up to ``max_lines`` complete lines. With ``final``, a last line without a newline counts too."""
        lines: list[RawLine] = []
        start = self.offset
        buffer = self._buffer
        position = 0
        while len(lines) < max_lines:
            newline = buffer.find(b"\n", position)
            if newline < 0:
                chunk = self._file.read(CHUNK)
                if chunk:
                    buffer = buffer[position:] + chunk
                    start += position
                    position = 0
                    if len(buffer) > MAX_BUFFERED_LINE and buffer.find(b"\n") < 0:
                        if not self._skipping:
                            lines.append(RawLine(start, buffer[:MAX_BUFFERED_LINE]))
                        self._skipping = True
                        start += len(buffer)
                        buffer = b""
                    continue
                if final and position < len(buffer):
                    if not self._skipping:
                        lines.append(RawLine(start + position, buffer[position:]))
                    self._skipping = False
                    position = len(buffer)
                break
            if self._skipping:
                self._skipping = False
            else:
                lines.append(RawLine(start + position, buffer[position:newline]))
            position = newline + 1
        self._buffer = buffer[position:]
        self.offset = start + position
        return lines

    def size(self) -> int:
        """Bytes in the file now (for a compressed file, never less than what was read)."""
        if self.compressed:
            return self.offset + len(self._buffer)
        return os.fstat(self._raw.fileno()).st_size

    def head(self, length: int = HEAD_BYTES) -> bytes:
        """The first bytes of the content as they are now (copytruncate rewrites them in place)."""
        if self.compressed:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
            try:
                return inflater.decompress(os.pread(self._raw.fileno(), 1 << 16, 0), length)
            except zlib.error:
                return b""
        return os.pread(self._raw.fileno(), length, 0)

    def close(self) -> None:
        if self._file is not self._raw:
            self._file.close()
        self._raw.close()


def file_identity(path: str | Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
