from __future__ import annotations

from typing import Any, Protocol


class Parser(Protocol):
    """Turns a decoded line into event fields (at least ``@timestamp``); raises ``ParseError`` otherwise."""

    format: str
    static_fields: dict[str, Any]  # fields every event of this format has (event.module, …)

    def parse(self, line: str) -> dict[str, Any]: ...
