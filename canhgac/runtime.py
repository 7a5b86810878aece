"""Wiring: build the stages once from the settings and connect sources → detectors → incidents → notifiers.

This module sits at the top of the import ladder, next to the command line; nothing below imports it.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from canhgac.config import MonitoredSystem, Settings
from canhgac.directory import Directory
from canhgac.errors import ConfigError, RuleError
from canhgac.model import Alert, DeadLetter, Event
from collectors.file import FileReader
from collectors.lines import DecodeStats, LineDecoder, Origin
from collectors.parsers import get_parser
from detectors.sigma import SigmaDetector, builtin_rules_dir, load_rules
from incidents.service import IncidentChange, IncidentService
from notifications import Notifier, build_notifier
from storage import open_store
from storage.base import Store

log = logging.getLogger(__name__)


@dataclass
class PipelineTotals:
    events_stored: int = 0
    dead_letters: int = 0
    alerts: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0


class Pipeline:
    """One batch at a time: store events and dead letters, detect, store alerts, group, notify."""

    def __init__(self, store: Store, detector: SigmaDetector, incidents: IncidentService,
                 notifier: Notifier) -> None:
        self.store = store
        self.detector = detector
        self.incidents = incidents
        self.notifier = notifier
        self.totals = PipelineTotals()
        # The tail thread and the scheduler both raise alerts; grouping them one batch at a time keeps two
        # threads from opening two incidents for the same fingerprint.
        self._grouping = threading.Lock()

    def process(self, events: Sequence[Event], letters: Sequence[DeadLetter]) -> list[IncidentChange]:
        if letters:
            self.totals.dead_letters += self.store.put_dead_letters(letters)
        if not events:
            return []
        self.totals.events_stored += self.store.put_events(events)
        # Detection runs on every event, stored before or not: alert ids are stable, so a re-read line
        # yields no second alert, and a crash between storing events and alerts loses no alert.
        return self.raise_alerts(self.detector.detect(events))

    def raise_alerts(self, alerts: Sequence[Alert]) -> list[IncidentChange]:
        if not alerts:
            return []
        with self._grouping:
            fresh = self.store.put_alerts(alerts)
            if not fresh:
                return []
            self.totals.alerts += len(fresh)
            changes = self.incidents.ingest_alerts(fresh)
            self.totals.incidents_created += sum(c.created for c in changes)
            self.totals.incidents_updated += sum(not c.created for c in changes)
        self.notifier.notify(changes)
        return changes


@dataclass
class Runtime:
    settings: Settings
    directory: Directory
    store: Store
    detector: SigmaDetector
    rule_count: int
    rule_errors: list[RuleError]
    notifier: Notifier
    pipeline: Pipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.store, self.detector, IncidentService(self.store, self.directory),
                                 self.notifier)

    @classmethod
    def build(cls, settings: Settings, *, store: Store | None = None,
              notifier: Notifier | None = None) -> Runtime:
        directory = Directory(settings)
        rule_paths = [builtin_rules_dir()] if settings.detection.builtin_rules else []
        rule_paths += [settings.resolve_path(p) for p in settings.detection.rule_dirs]
        loaded = load_rules(rule_paths)
        for error in loaded.errors:
            log.warning("rule not loaded: %s", error)
        return cls(settings, directory, store or open_store(settings), SigmaDetector(loaded.rules),
                   len(loaded.rules), loaded.errors, notifier or build_notifier(settings, directory))

    def origin_for(self, path: Path, *, agency: str | None, system: str | None) -> Origin:
        """Whose file this is: ``--system`` or ``--agency``, else the system that lists the path."""
        known: MonitoredSystem | None = self.directory.system(system) if system else self._system_of(path)
        if agency is not None:
            self.directory.agency(agency)
        elif known is not None:
            agency = known.agency
        else:
            raise ConfigError(f"no agency for {path}: pass --agency or --system, or list the file under a "
                              f"system's log_sources", file=str(self.settings.source or "<defaults>"))
        stream = str(path.resolve())
        return Origin(stream=stream, path=stream, agency=agency, system=known.id if known else None)

    def _system_of(self, path: Path) -> MonitoredSystem | None:
        resolved = str(path.resolve())
        for candidate in self.settings.systems:
            for source in candidate.log_sources:
                if any(fnmatch.fnmatch(resolved, pattern) for pattern in source.paths):
                    return candidate
        return None

    def close(self) -> None:
        self.notifier.close()
        self.store.close()


@dataclass
class IngestReport:
    files: int = 0
    decode: DecodeStats = field(default_factory=DecodeStats)
    events_stored: int = 0
    dead_letters: int = 0
    alerts: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.decode.events / self.seconds if self.seconds > 0 else 0.0


def ingest_files(runtime: Runtime, paths: Sequence[Path], source_format: str, *, agency: str | None,
                 system: str | None, batch_lines: int = 5000,
                 progress: Callable[[int], None] | None = None) -> IngestReport:
    """Read whole files through the full pipeline. Safe to repeat: nothing is stored twice."""
    report = IngestReport()
    totals_before = _snapshot(runtime.pipeline.totals)
    started = time.perf_counter()
    for path in paths:
        decoder = LineDecoder(get_parser(source_format), runtime.origin_for(path, agency=agency, system=system))
        reader = FileReader(path)
        try:
            while lines := reader.read(batch_lines, final=True):
                runtime.pipeline.process(*decoder.decode(lines))
                if progress is not None:
                    progress(lines[-1].offset + len(lines[-1].data) + 1 - lines[0].offset)
        finally:
            reader.close()
        report.files += 1
        report.decode.add(decoder.stats)
    runtime.store.refresh()
    report.seconds = time.perf_counter() - started
    totals = runtime.pipeline.totals
    report.events_stored = totals.events_stored - totals_before.events_stored
    report.dead_letters = totals.dead_letters - totals_before.dead_letters
    report.alerts = totals.alerts - totals_before.alerts
    report.incidents_created = totals.incidents_created - totals_before.incidents_created
    report.incidents_updated = totals.incidents_updated - totals_before.incidents_updated
    return report


def _snapshot(totals: PipelineTotals) -> PipelineTotals:
    return PipelineTotals(**vars(totals))
