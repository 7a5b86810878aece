"""Wiring: build the stages once from the settings and connect sources → detectors → incidents → notifiers.

This module sits at the top of the import ladder, next to the command line; nothing below imports it.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from canhgac.collectors.lines import DecodeStats, Origin
from canhgac.collectors.reading import Prepared
from canhgac.collectors.service import Collection
from canhgac.collectors.status import StatusBoard
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.errors import RuleError
from canhgac.core.model import Alert, DeadLetter, Event
from canhgac.detectors.engine import DetectionEngine, Matched
from canhgac.incidents.grouping import placements
from canhgac.incidents.service import IncidentChange, IncidentService
from canhgac.notifications import Notifier, build_notifier
from canhgac.storage import open_store
from canhgac.storage.base import IncidentQuery, Store

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

    def __init__(self, store: Store, detector: DetectionEngine, incidents: IncidentService,
                 notifier: Notifier) -> None:
        self.store = store
        self.detector = detector
        self.incidents = incidents
        self.notifier = notifier
        self.totals = PipelineTotals()
        # The tail thread and the scheduler both raise alerts; grouping them one batch at a time keeps two
        # threads from opening two incidents for the same fingerprint.
        self._grouping = threading.Lock()
        self.board: StatusBoard | None = None  # source status, told of events detection left out as late
        #: the batch is one handed out again (a worker's redelivery): stored alerts may be in no incident yet
        self.replaying = False
        self._ungrouped: dict[str, Alert] = {}
        self._settled = True

    def process(self, events: Sequence[Event], letters: Sequence[DeadLetter],
                matched: Matched | None = None) -> list[IncidentChange]:
        if letters:
            self.totals.dead_letters += self.store.put_dead_letters(letters)
        if not events:
            return []
        # One unit of work per batch: on Elasticsearch the batch's audit entries and saved state go in one bulk.
        with self.store.unit_of_work():
            self.totals.events_stored += self.store.put_events(events)
            # Detection runs on every event, stored before or not: alert ids are stable, so a re-read line
            # yields no second alert, and a crash between storing events and alerts loses no alert.
            changes = self.raise_alerts(self.detector.detect(events, matched))
            late = self.detector.drain_late()
            if late and self.board is not None:
                self.board.late(late)
            # Correlation windows are saved only once their alerts are stored, and every few seconds rather
            # than per batch: until they are, the delivery holds back the sources' positions (``settle``), so a
            # crash replays the lines since the last save from that state and fires the same alerts (same ids).
            self._settled = self.detector.checkpoint_if_due()
        return changes

    def prepare(self, events: list[Event]) -> Prepared:
        """The stateless half of detection, and the events as rows for the store, made by the process that
        decodes a file (collectors/reading.py)."""
        return Prepared(self.detector.match(events), self.store.pack_events(events))

    def settle(self, force: bool, also: Callable[[], None] | None = None) -> bool:
        """True when the detection state saved in the store covers every batch processed so far; with
        ``force``, save it now, and with ``also`` write more (the source status) in the same unit."""
        if force and (not self._settled or also is not None):
            with self.store.unit_of_work():  # on Elasticsearch: every correlation's state in one bulk
                if not self._settled:
                    self.detector.checkpoint()
                if also is not None:
                    also()
            self._settled = True  # only once the unit is sent: a failed send leaves the state to save again
        return self._settled

    def raise_alerts(self, alerts: Sequence[Alert]) -> list[IncidentChange]:
        with self._grouping:
            # Alerts whose grouping failed earlier (the store refused the incident writes) are carried into this
            # call: the retried batch finds them stored, and correlations do not fire twice for the same events.
            retried = set(self._ungrouped)
            raised = {alert.id for alert in alerts}
            batch = [*(alert for alert_id, alert in self._ungrouped.items() if alert_id not in raised), *alerts]
            if not batch:
                return []
            self._ungrouped.update((alert.id, alert) for alert in batch)
            # Alerts, their incidents and the notices of those are kept together (Store.atomic): after a crash
            # between them the replayed lines would find their alerts stored and nobody would group or tell them.
            with self.store.atomic():
                stored = {alert.id for alert in self.store.put_alerts(batch)} | retried  # retried: counted not yet
                todo = self._to_group(batch, stored)
                changes = self.incidents.ingest_alerts(todo) if todo else []
                self.notifier.notify(changes)
            self._ungrouped.clear()
        self.totals.alerts += len(stored)
        self.totals.incidents_created += sum(c.created for c in changes)
        self.totals.incidents_updated += sum(not c.created for c in changes)
        return changes

    def _to_group(self, batch: Sequence[Alert], wanted: set[str]) -> list[Alert]:
        """The alerts in ``wanted`` (new, or whose grouping failed before), and — where a store keeps no
        transaction, or a batch is handed out again — stored alerts found in no incident (the process that
        stored them died before grouping them)."""
        repair = self.replaying or not self.store.atomic_writes
        return [alert for alert in batch if alert.id in wanted or (repair and not self._grouped(alert))]

    def _grouped(self, alert: Alert) -> bool:
        key = placements([alert], self.incidents.settings.incidents.grouping)[0].key
        for incident in self.store.search_incidents(IncidentQuery(fingerprint=key, limit=5)):
            if alert.id in incident.alert_ids:
                return True
            if incident.alert_count > len(incident.alert_ids) and incident.first_seen <= alert.last_seen \
                    <= incident.last_seen:
                return True  # its list of alert ids is cut short: an alert within its span is taken as in it
        return False


@dataclass
class Runtime:
    settings: Settings
    directory: Directory
    store: Store
    detector: DetectionEngine
    notifier: Notifier
    pipeline: Pipeline = field(init=False)
    _collection: Collection | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.store, self.detector, IncidentService(self.store, self.directory),
                                 self.notifier)

    @classmethod
    def build(cls, settings: Settings, *, store: Store | None = None,
              notifier: Notifier | None = None) -> Runtime:
        directory = Directory(settings)
        store = store or open_store(settings)
        engine = DetectionEngine(settings.detection, resolve=settings.resolve_path, store=store)
        return cls(settings, directory, store, engine, notifier or build_notifier(settings, directory, store))

    @property
    def rule_count(self) -> int:
        return self.detector.rule_count

    @property
    def rule_errors(self) -> list[RuleError]:
        return self.detector.errors

    def collection(self, *, spool: bool = False) -> Collection:
        """The collectors (sources, delivery, source status), built once; ``spool`` for long-running serving."""
        if self._collection is None:
            self._collection = Collection(self.settings, self.directory, self.store, self.pipeline.process,
                                          spool=spool, settle=self.pipeline.settle,
                                          prepare=self.pipeline.prepare)
            self.pipeline.board = self._collection.board
        return self._collection

    def origin_for(self, path: Path, *, agency: str | None, system: str | None, stream: str | None = None) -> Origin:
        """Whose file this is: ``--system`` or ``--agency``, else the system that lists the path."""
        return self.collection().file_origin(path, agency=agency, system=system, stream=stream)

    def close(self) -> None:
        if self._collection is not None:
            self._collection.close()  # saves the detection state with the positions it holds back
        else:
            self.pipeline.settle(True)
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
                 system: str | None, batch_lines: int = 5000, progress: Callable[[int], None] | None = None,
                 resume: bool = False, stream: str | None = None, timezone: str | None = None) -> IngestReport:
    """Read whole files through the full pipeline. Safe to repeat: nothing is stored twice. While the store
    is down the reading waits (the file is its own buffer); with ``resume`` a restarted run continues after
    the last committed batch."""
    report = IngestReport()
    totals_before = _snapshot(runtime.pipeline.totals)
    started = time.perf_counter()
    collection = runtime.collection()
    with _few_collections():
        for number, path in enumerate(paths, 1):
            origin = runtime.origin_for(path, agency=agency, system=system, stream=stream)
            report.decode.add(collection.ingest_file(path, source_format, origin, batch_lines=batch_lines,
                                                     resume=resume, timezone=timezone, progress=progress,
                                                     save_status=number == len(paths)))
            report.files += 1
    if not paths:
        collection.save_status()
    runtime.store.refresh()
    report.seconds = time.perf_counter() - started
    totals = runtime.pipeline.totals
    report.events_stored = totals.events_stored - totals_before.events_stored
    report.dead_letters = totals.dead_letters - totals_before.dead_letters
    report.alerts = totals.alerts - totals_before.alerts
    report.incidents_created = totals.incidents_created - totals_before.incidents_created
    report.incidents_updated = totals.incidents_updated - totals_before.incidents_updated
    return report


@contextmanager
def _few_collections() -> Iterator[None]:
    """Python's cycle collector ran every 700 allocations and cost a fifth of an ingest's time, rescanning
    the rules and open windows; batches make few cycles. Objects made so far are left out of its scans, and
    it runs less often while files are read (the decoding process inherits this)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _snapshot(totals: PipelineTotals) -> PipelineTotals:
    return PipelineTotals(**vars(totals))
