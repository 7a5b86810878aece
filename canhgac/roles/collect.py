"""The collector role: the configured file tails, publishing raw lines to the bus (docs/decisions/0047)."""

from __future__ import annotations

import threading

from canhgac.collectors.bus.base import Bus
from canhgac.collectors.bus.publishing import BusCollection, Publisher
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import Store


class Collector:
    """Positions and source status go to ``store`` (the collector's own, or the shared one): a position is
    written only after the stream acknowledged every batch up to it."""

    def __init__(self, settings: Settings, bus: Bus, store: Store) -> None:
        assert settings.cluster.bus is not None
        # HTTP push arrives through the API, which the collector does not serve: it stays with ``canhgac serve``.
        self.skipped = len([1 for system in settings.systems for source in system.log_sources
                            if source.type == "http"])
        local = settings.model_copy(update={"collection": settings.collection.model_copy(update={"syslog": []})})
        self.publisher = Publisher(bus)
        self.collection = BusCollection(local, Directory(settings), store, self.publisher)
        self.collection.bus_lines = settings.cluster.bus.batch_lines
        self.collection.listeners = settings.collection.syslog
        self.store = store

    @property
    def file_count(self) -> int:
        return sum(1 for status in self.collection.board.snapshot() if status.kind == "file")

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        return self.collection.run(stop)

    def close(self) -> None:
        self.collection.close()
