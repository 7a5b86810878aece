"""The unit every source hands on: bytes with the position of their first byte in the stream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawLine:
    offset: int  # byte offset of the line's first byte in its stream
    data: bytes  # without the line terminator
