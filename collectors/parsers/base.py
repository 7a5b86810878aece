from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Protocol, runtime_checkable

from canhgac.core.timeutil import VIETNAM


@dataclass(frozen=True)
class ParserOptions:
    """What a source tells its parser: the zone of its zone-less times."""

    zone: tzinfo | None = None  # the zone the source says its zone-less times are in
    local_zone: tzinfo = VIETNAM  # the deployment's zone (``timezone:`` in the configuration)

    @property
    def times_zone(self) -> tzinfo:
        return self.zone or self.local_zone


class Parser(Protocol):
    """Turns a decoded line into event fields (at least ``@timestamp``); raises ``ParseError`` otherwise.

    ``None`` means the line is a directive of the format (an IIS ``#Fields:`` header), not an event.
    """

    format: str
    static_fields: dict[str, Any]  # fields every event of this format has (event.module, …)

    def parse(self, line: str) -> dict[str, Any] | None: ...


@runtime_checkable
class StatefulParser(Protocol):
    """A parser whose reading of later lines depends on earlier ones; its state goes into checkpoints."""

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...
