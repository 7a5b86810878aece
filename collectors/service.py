"""Collection wired from the configuration: parsers with their options, whose lines are whose (origins),
the sources (file tails, syslog listeners, HTTP push), the delivery with its spool, and source status."""

from __future__ import annotations

import fnmatch
import glob
import logging
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from canhgac.collectors.delivery import Batch, Delivery, Process, Settle
from canhgac.collectors.enrich import Enricher
from canhgac.collectors.file import file_identity
from canhgac.collectors.lines import DecodeStats, LineDecoder, Origin
from canhgac.collectors.parsers import Parser, ParserOptions, get_parser, known_formats
from canhgac.collectors.parsers.times import zone_named
from canhgac.collectors.push import PushSources
from canhgac.collectors.reading import Prepare, decoded_batches
from canhgac.collectors.relp import RelpListener
from canhgac.collectors.rotation import live_name
from canhgac.collectors.spool import Spool
from canhgac.collectors.status import StatusBoard
from canhgac.collectors.syslog import SyslogServer
from canhgac.collectors.tail import FileSource, FileTailer
from canhgac.core.config import FileLogSource, HttpLogSource, MonitoredSystem, Settings, SyslogLogSource, home_dir
from canhgac.core.directory import Directory
from canhgac.core.errors import ConfigError
from canhgac.storage.base import Store

log = logging.getLogger(__name__)


class Collection:
    def __init__(self, settings: Settings, directory: Directory, store: Store, process: Process, *,
                 spool: bool = False, settle: Settle | None = None, prepare: Prepare | None = None) -> None:
        self.settings = settings
        self.prepare = prepare  # the stateless part of processing, run where the lines are decoded
        self.directory = directory
        self.store = store
        self.board = StatusBoard(store)
        self.enricher = Enricher.of(directory, settings.collection.trusted_proxies)
        self.mappings = {name: settings.resolve_path(path) for name, path in settings.collection.json_mappings.items()}
        self.local_zone = zone_named(settings.timezone)
        self.delivery = Delivery(process, store, self._open_spool() if spool else None,
                                 on_commit=self._committed, settle=settle)

    def _open_spool(self) -> Spool:
        config = self.settings.collection.spool
        directory = Path(config.directory)
        if not directory.is_absolute():
            directory = home_dir() / directory
        return Spool(directory, max_bytes=config.max_bytes, segment_bytes=config.segment_bytes, fsync=config.fsync)

    def _committed(self, batch: Batch) -> None:
        self.board.committed(batch.source, len(batch.events))

    # parsers and origins ----------------------------------------------------------------------------
    def formats(self) -> list[str]:
        return known_formats(self.mappings)

    def parser(self, name: str, timezone: str | None = None) -> Parser:
        options = ParserOptions(zone=zone_named(timezone) if timezone else None, local_zone=self.local_zone)
        return get_parser(name, options, mappings=self.mappings)

    def file_origin(self, path: Path, *, agency: str | None, system: str | None, stream: str | None = None) -> Origin:
        """Whose file this is (``--system``/``--agency``, else the system that lists it), and its stream: a
        rotated copy (``access.log.2.gz``) is read under the live file's name so its ids match the tail's."""
        live = Path(stream) if stream else live_name(path.resolve())
        known: MonitoredSystem | None = self.directory.system(system) if system else self.system_listing(live)
        if agency is not None:
            self.directory.agency(agency)
        elif known is not None:
            agency = known.agency
        else:
            raise ConfigError(f"no agency for {path}: pass --agency or --system, or list the file under a "
                              f"system's log_sources", file=str(self.settings.source or "<defaults>"))
        return Origin(stream=str(live), path=str(path.resolve()), agency=agency,
                      system=known.id if known else None)

    def system_listing(self, path: Path) -> MonitoredSystem | None:
        resolved = str(path)
        for candidate in self.settings.systems:
            for source in candidate.log_sources:
                if isinstance(source, FileLogSource) and any(fnmatch.fnmatch(resolved, p) for p in source.paths):
                    return candidate
        return None

    # one-shot ingestion of whole files --------------------------------------------------------------
    def ingest_file(self, path: Path, fmt: str, origin: Origin, *, batch_lines: int = 5000, resume: bool = False,
                    timezone: str | None = None, progress: Callable[[int], None] | None = None,
                    save_status: bool = False) -> DecodeStats:
        """Read a whole file through the delivery. With ``resume``, start where the last committed batch of an
        earlier (perhaps killed) run of the same file ended; the checkpoint is written after each commit. With
        ``save_status``, the source status is saved with the last positions (one bulk on Elasticsearch)."""
        decoder = LineDecoder(self.parser(fmt, timezone), origin, self.enricher)
        key = f"ingest:{path.resolve()}"
        source_id = f"ingest:{path.resolve()}"
        self.board.register(source_id, "ingest", format=fmt, path=str(path.resolve()), agency=origin.agency,
                            system=origin.system)
        offset = 0
        if resume:
            saved = self.store.get_state(key) or {}
            if (saved.get("device"), saved.get("inode")) == file_identity(path):
                offset = int(saved.get("offset", 0))
                decoder.restore(saved.get("parser"))
        for decoded in decoded_batches(path, decoder, offset, batch_lines, prepare=self.prepare):
            checkpoints = {key: decoded.position} if resume else {}
            self.board.read(source_id, lines=decoded.lines, events=len(decoded.events),
                            dead_letters=len(decoded.letters), **decoded.flags, newest=decoded.newest)
            self.delivery.submit(Batch(source_id, decoded.events, decoded.letters, checkpoints, decoded.lines,
                                       decoded.prepared))
            self.board.lag(source_id, decoded.unread_bytes)
            if progress is not None and decoded.read_bytes:
                progress(decoded.read_bytes)
        self.delivery.settle(self._status_writes if save_status else None)
        return decoder.stats

    # long-running sources ---------------------------------------------------------------------------
    def file_sources(self) -> list[FileSource]:
        """A tail for every existing file the configured ``log_sources`` name."""
        sources = []
        tail = self.settings.collection.tail
        for system in self.settings.systems:
            for source in system.log_sources:
                if not isinstance(source, FileLogSource):
                    continue
                for pattern in source.paths:
                    for name in sorted(glob.glob(pattern)):
                        if live_name(name) != Path(name):
                            continue  # a rotated copy: read through its live file's backfill
                        path = str(Path(name).resolve())
                        origin = Origin(stream=path, path=path, agency=system.agency, system=system.id)
                        sources.append(self.file_source(origin, source.format, source.timezone,
                                                        backfill=source.backfill_rotated, batch_lines=tail.batch_lines))
        return sources

    def file_source(self, origin: Origin, fmt: str, timezone: str | None = None, *, backfill: bool = False,
                    batch_lines: int = 2000) -> FileSource:
        decoder = LineDecoder(self.parser(fmt, timezone), origin, self.enricher)
        return FileSource(decoder, batch_lines=batch_lines, backfill=backfill, board=self.board)

    def syslog_owner(self, sender: str, listener_agency: str | None) -> tuple[str | None, str | None, str | None]:
        """(agency, system, format) for a syslog sender address: a system's syslog source naming it, else the
        system whose address range holds it, else the listener's default agency (the system then per message,
        among that agency's own), else nobody's: (None, None, None), and its messages are dead letters."""
        for system in self.settings.systems:
            for source in system.log_sources:
                if isinstance(source, SyslogLogSource) and _names_sender(source.senders, sender):
                    return system.agency, system.id, source.format
        system = self.directory.system_for_ip(sender)
        if system is not None:
            return system.agency, system.id, None
        return listener_agency, None, None

    def http_sources(self) -> list[tuple[MonitoredSystem, HttpLogSource]]:
        return [(system, source) for system in self.settings.systems for source in system.log_sources
                if isinstance(source, HttpLogSource)]

    @cached_property
    def push(self) -> PushSources:
        """The HTTP push sources (``type: http`` log sources), for ``api/routes/ingest.py``."""
        return PushSources(self)

    def run(self, stop: threading.Event, extra_sources: list[FileSource] | None = None) -> list[threading.Thread]:
        """Start the tails, the listeners, spool replay and status saving; threads end when ``stop`` is set."""
        tail = self.settings.collection.tail
        sources = self.file_sources() + list(extra_sources or [])
        tailer = FileTailer(sources, self.store, self.delivery, poll_seconds=tail.poll_seconds)
        jobs: list[tuple[str, Callable[[threading.Event], None]]] = [("tail", tailer.run),
                                                                     ("spool", self.delivery.run),
                                                                     ("status", self._save_status)]
        for listener in self.settings.collection.syslog:
            server = SyslogServer(listener, self)
            server.bind()
            jobs.append((f"syslog-{listener.name}", server.run))
            if listener.relp_port is not None:  # collectors/relp.py
                jobs.append((f"relp-{listener.name}", RelpListener.bound(server).run))
        threads = [threading.Thread(target=job, args=(stop,), name=name, daemon=True) for name, job in jobs]
        for thread in threads:
            thread.start()
        return threads

    def _save_status(self, stop: threading.Event) -> None:
        interval = self.settings.collection.status_interval_seconds
        while not stop.wait(interval):
            self._settle(with_status=True)
            self._index()
        self.save_status()

    def save_status(self) -> None:
        try:
            self._status_writes()
        except Exception as exc:  # the store is down: the next round saves it
            log.debug("source status not saved: %s", exc)

    def _status_writes(self) -> None:
        _, size = self.delivery.pending
        if self.delivery.spool is not None:
            self.board.register("spool", "spool", path=str(self.delivery.spool.directory))
            self.board.lag("spool", size)
            if self.delivery.last_error and self.delivery.store_down_since is not None:
                self.board.error("spool", self.delivery.last_error)
        self.board.persist()

    def _index(self) -> None:
        try:
            self.store.catch_up_indexes()  # so that a search finds the text index (nearly) up to date
        except Exception as exc:  # the store is down or busy: the next round (or the search itself) does it
            log.debug("text index not caught up: %s", exc)

    def _settle(self, *, with_status: bool = False) -> None:
        try:
            self.delivery.settle(self._status_writes if with_status else None)
        except Exception as exc:  # the store is down: the positions stay held, the next round saves them
            log.debug("detection state not saved: %s", exc)
            if with_status:
                self.save_status()  # the state may be what failed: the status is still worth a try

    def close(self) -> None:
        self._settle()
        if self.delivery.spool is not None:
            self.delivery.spool.close()


def _names_sender(senders: list[str], sender: str) -> bool:
    import ipaddress

    for entry in senders:
        if entry == sender:
            return True
        if "/" in entry:
            try:
                if ipaddress.ip_address(sender) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False
