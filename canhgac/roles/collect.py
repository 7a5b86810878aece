"""The collector role: the configured file tails, syslog listeners and HTTP push sources, publishing raw lines to
the bus (docs/decisions/0047)."""

from __future__ import annotations

import socket
import threading
from functools import cached_property

from canhgac.collectors.bus.base import Bus
from canhgac.collectors.bus.publishing import BusCollection, Publisher
from canhgac.collectors.bus.push import BusPushSources
from canhgac.collectors.push import PushSources
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.storage.base import Store


class _PushingCollection(BusCollection):
    @cached_property
    def push(self) -> PushSources:
        sources = BusPushSources(self)
        sources.bus_lines = self.bus_lines
        return sources


class Collector:
    """Positions and source status go to ``store`` (the collector's own, or the shared one): a position is
    written only after the stream acknowledged every batch up to it, an HTTP push answered only then."""

    def __init__(self, settings: Settings, bus: Bus, store: Store) -> None:
        assert settings.cluster.bus is not None
        self.settings = settings
        local = settings.model_copy(update={"collection": settings.collection.model_copy(update={"syslog": []})})
        self.publisher = Publisher(bus)
        self.collection = _PushingCollection(local, Directory(settings), store, self.publisher)
        self.collection.bus_lines = settings.cluster.bus.batch_lines
        self.collection.listeners = settings.collection.syslog
        self.store = store

    @property
    def file_count(self) -> int:
        return sum(1 for status in self.collection.board.snapshot() if status.kind == "file")

    @property
    def push_count(self) -> int:
        """HTTP push sources this collector takes (none when ``collection.http.enabled`` is off)."""
        if not self.settings.collection.http.enabled:
            return 0
        return len(self.collection.http_sources())

    def start(self, stop: threading.Event, sock: socket.socket | None = None) -> list[threading.Thread]:
        """The tails and listeners; with ``sock``, the push routes served on it until ``stop``."""
        threads = self.collection.run(stop)
        if sock is not None:
            threads.append(self._serve(stop, sock))
        return threads

    def _serve(self, stop: threading.Event, sock: socket.socket) -> threading.Thread:
        import uvicorn

        from canhgac.api.push_app import create_push_app

        self.collection.push  # noqa: B018 — register the push sources' status before the first request
        app = create_push_app(self.settings, self.store, self.collection)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))

        def run() -> None:
            server.run(sockets=[sock])  # not the main thread: uvicorn leaves the signals to ``stop_event``

        def stop_later() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=stop_later, name="push-stop", daemon=True).start()
        thread = threading.Thread(target=run, name="push-http", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.collection.close()
