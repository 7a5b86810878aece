"""A bounded, ordered, on-disk queue of batches for when the store is down (see docs/decisions/0005-spool.md).

Segment files of length-and-checksum-framed records, appended and (optionally) fsynced; a cursor file says
which record is next to replay. A record torn by a crash is cut off when the spool is opened. Only one
process may use a spool directory at a time (an ``flock`` on its lock file).
"""

from __future__ import annotations

import fcntl
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import orjson
from canhgac.core.errors import CanhGacError

_HEADER = struct.Struct("<II")  # payload length, crc32 of the payload
_SEGMENT = "{:08d}.seg"


class SpoolLocked(CanhGacError):
    """Another process is using the spool directory."""


class Spool:
    def __init__(self, directory: str | Path, *, max_bytes: int = 256 << 20, segment_bytes: int = 16 << 20,
                 fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._lock = open(self.directory / "lock", "a+b")  # noqa: SIM115 — held for the spool's life
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SpoolLocked(f"spool {self.directory} is in use by another process") from None
        self._cursor_path = self.directory / "cursor"
        self.read_segment, self.read_offset = self._load_cursor()
        self.count = 0
        self.pending_bytes = 0
        self._recover()
        segments = self._segments()
        self.write_segment = segments[-1] if segments else self.read_segment
        self._writer = open(self._segment_path(self.write_segment), "ab")  # noqa: SIM115

    # layout -----------------------------------------------------------------------------------------
    def _segment_path(self, number: int) -> Path:
        return self.directory / _SEGMENT.format(number)

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.seg") if p.stem.isdigit())

    def _load_cursor(self) -> tuple[int, int]:
        try:
            data = orjson.loads(self._cursor_path.read_bytes())
            return int(data["segment"]), int(data["offset"])
        except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            segments = self._segments()
            return (segments[0] if segments else 1), 0

    def _save_cursor(self) -> None:
        temporary = self._cursor_path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"segment": self.read_segment, "offset": self.read_offset}))
        os.replace(temporary, self._cursor_path)

    def _recover(self) -> None:
        """Count what is pending and cut a torn last record (a crash in the middle of an append)."""
        for number in self._segments():
            if number < self.read_segment:
                self._segment_path(number).unlink(missing_ok=True)
                continue
            path = self._segment_path(number)
            position = self.read_offset if number == self.read_segment else 0
            with open(path, "r+b") as segment:
                segment.seek(position)
                while True:
                    payload = _read_record(segment)
                    if payload is None:
                        break
                    self.count += 1
                    self.pending_bytes += _HEADER.size + len(payload)
                    position = segment.tell()
                segment.truncate(position)

    # queue ------------------------------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return self.count == 0

    def has_room(self, size: int) -> bool:
        return self.pending_bytes == 0 or self.pending_bytes + size <= self.max_bytes

    def encode(self, item: dict[str, Any]) -> bytes:
        return orjson.dumps(item)

    def append(self, payload: bytes) -> None:
        if self._writer.tell() >= self.segment_bytes:
            self._writer.close()
            self.write_segment += 1
            self._writer = open(self._segment_path(self.write_segment), "ab")  # noqa: SIM115
        self._writer.write(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        self._writer.flush()
        if self.fsync:
            os.fsync(self._writer.fileno())
        self.count += 1
        self.pending_bytes += _HEADER.size + len(payload)

    def peek(self) -> dict[str, Any] | None:
        """The oldest record, or None when empty."""
        while self.count:
            path = self._segment_path(self.read_segment)
            try:
                with open(path, "rb") as segment:
                    segment.seek(self.read_offset)
                    payload = _read_record(segment)
            except FileNotFoundError:
                payload = None
            if payload is not None:
                return orjson.loads(payload)
            if self.read_segment >= self.write_segment:
                self.count = 0  # nothing readable left: the counts were wrong, trust the files
                self.pending_bytes = 0
                return None
            self._next_segment()
        return None

    def pop(self) -> None:
        """Forget the oldest record: it has been committed."""
        path = self._segment_path(self.read_segment)
        with open(path, "rb") as segment:
            segment.seek(self.read_offset)
            payload = _read_record(segment)
            if payload is None:
                return
            self.read_offset = segment.tell()
        self.count -= 1
        self.pending_bytes -= _HEADER.size + len(payload)
        if self.read_segment < self.write_segment and self.read_offset >= path.stat().st_size:
            self._next_segment()
        self._save_cursor()

    def _next_segment(self) -> None:
        self._segment_path(self.read_segment).unlink(missing_ok=True)
        self.read_segment += 1
        self.read_offset = 0
        self._save_cursor()

    def close(self) -> None:
        self._writer.close()
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
        self._lock.close()


def _read_record(segment: Any) -> bytes | None:
    header = segment.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    length, checksum = _HEADER.unpack(header)
    payload = segment.read(length)
    if len(payload) < length or zlib.crc32(payload) != checksum:
        return None
    return payload
