"""What a network source (syslog listener, HTTP push) needs from the collection that owns it.

The sources are typed against this protocol rather than against ``Collection`` itself, so that
``service.py`` may import them while they import nothing back (the import graph stays a ladder).
"""

from __future__ import annotations

from typing import Protocol

from canhgac.collectors.delivery import Delivery
from canhgac.collectors.enrich import Enricher
from canhgac.collectors.parsers import Parser
from canhgac.collectors.status import StatusBoard
from canhgac.core.config import HttpLogSource, MonitoredSystem


class SourceContext(Protocol):
    board: StatusBoard
    enricher: Enricher
    delivery: Delivery

    def parser(self, name: str, timezone: str | None = None) -> Parser: ...

    def syslog_owner(self, sender: str, listener_agency: str | None) -> tuple[str | None, str | None, str | None]:
        ...

    def http_sources(self) -> list[tuple[MonitoredSystem, HttpLogSource]]: ...
