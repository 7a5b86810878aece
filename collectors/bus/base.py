"""The bus contract: what a collector publishes, what a worker receives, and how it says "committed"."""

from __future__ import annotations

import struct
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from canhgac.collectors.raw import RawLine

#: A batch's encoded size limit; NATS refuses payloads over its ``max_payload`` (1 MiB by default).
MAX_BATCH_BYTES = 512 * 1024
_LINE_HEADER = struct.Struct(">QI")  # offset, length


class BusError(Exception):
    """The bus could not take or hand over a batch (unreachable, no quorum, batch too large)."""


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive raw lines of one source of one agency, with their positions in that source."""

    agency: str
    source_id: str
    lines: tuple[RawLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("lines: a batch holds at least one line")

    @property
    def first_offset(self) -> int:
        return self.lines[0].offset

    @property
    def last_offset(self) -> int:
        return self.lines[-1].offset

    @property
    def batch_id(self) -> str:
        """Same lines of the same source → same id, so a re-published batch is stored once."""
        return f"{self.agency}|{self.source_id}|{self.first_offset}-{self.last_offset}"

    def encode(self) -> bytes:
        body = b"".join(_LINE_HEADER.pack(line.offset, len(line.data)) + line.data for line in self.lines)
        if len(body) > MAX_BATCH_BYTES:
            raise BusError(f"batch of {len(body)} bytes is over the {MAX_BATCH_BYTES}-byte limit; split it")
        return body

    @staticmethod
    def decode(agency: str, source_id: str, body: bytes) -> LineBatch:
        lines: list[RawLine] = []
        position = 0
        while position < len(body):
            offset, length = _LINE_HEADER.unpack_from(body, position)
            position += _LINE_HEADER.size
            lines.append(RawLine(offset, body[position:position + length]))
            position += length
        return LineBatch(agency, source_id, tuple(lines))


@dataclass(frozen=True, slots=True)
class Published:
    sequence: int  # the batch's position in the stream (across partitions)
    duplicate: bool  # the bus already held this batch id; nothing new was stored


@dataclass(frozen=True, slots=True)
class Received:
    batch: LineBatch
    partition: int
    sequence: int
    redelivered: bool  # handed out before without an ack: the consumer may have half-processed it


def partition_of(agency: str, partitions: int) -> int:
    """A stable partition for an agency (the same on every host and Python run)."""
    return zlib.crc32(agency.encode("utf-8")) % partitions


class BusConsumer(ABC):
    """Reads one partition in order for one named group; the group's position survives restarts."""

    partition: int

    @abstractmethod
    def fetch(self, max_batches: int = 16, timeout: float = 1.0) -> list[Received]:
        """The next batches in stream order, at most ``max_batches``; [] when none came within ``timeout``."""

    @abstractmethod
    def ack(self, received: Sequence[Received]) -> None:
        """Call only after the store committed what these batches produced; unacked ones come back. Cumulative,
        like a Kafka offset commit: every batch handed out up to the newest of ``received`` is acknowledged."""

    @abstractmethod
    def close(self) -> None:
        """Stop reading; unacked batches stay with the group and are handed out again."""


class Bus(ABC):
    partitions: int

    def partition_for(self, agency: str) -> int:
        return partition_of(agency, self.partitions)

    @abstractmethod
    def publish(self, batch: LineBatch) -> Published:
        """Returns once the bus has durably stored the batch (or already held it); raises BusError otherwise."""

    @abstractmethod
    def consumer(self, group: str, partition: int) -> BusConsumer:
        """A reader of ``partition`` for ``group`` that resumes where the group's last acks left it."""

    @abstractmethod
    def close(self) -> None: ...
