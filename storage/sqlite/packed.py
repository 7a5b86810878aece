"""Events already turned into rows of the events table, made in the process that decodes a file so that the
process that stores them only inserts (docs/decisions/0037). They still read as events, decoded on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import orjson
from canhgac.core.model import Event

Row = tuple[str, int, str, str]  # id, ts (epoch ms), agency, JSON document


class PackedEvents(Sequence[Event]):
    __slots__ = ("rows",)

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [orjson.loads(row[3]) for row in self.rows[index]]
        return orjson.loads(self.rows[index][3])
