"""The detection stage as the pipeline sees it: Sigma rules, correlations and indicator lists, reloaded
when their files change, with correlation windows checkpointed in the store.

A reload builds a complete new detector beside the running one and swaps it in one assignment, so a
batch is always evaluated by one consistent rule set; correlations whose definition did not change keep
their open windows across the swap. See docs/decisions/0014-correlation-checkpoints.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from canhgac.core.config_detection import DetectionSettings
from canhgac.core.errors import RuleError
from canhgac.core.model import Alert, Event
from canhgac.detectors.indicators import IndicatorMatcher, Indicators, load_indicator_list
from canhgac.detectors.matching import BatchMatcher, Hit
from canhgac.detectors.sigma import LoadedRules, SigmaDetector, builtin_rules_dir, load_rules
from canhgac.detectors.sigma.loader import RULE_SUFFIXES
from canhgac.detectors.sigma.parse import ParseOptions
from canhgac.storage.base import Store

log = logging.getLogger(__name__)
STATE_PREFIX = "correlation:"
#: How often the pipeline saves correlation windows (docs/decisions/0037): serialising every open window per
#: batch cost more than detecting; the sources' positions are held back until the windows are saved with them.
CHECKPOINT_SECONDS = 5.0
#: ... and at least this many times as long as the last save took (saving stays ≤ 1/20 of the time).
CHECKPOINT_COST_FACTOR = 20


@dataclass
class RuleSet:
    """One consistent generation of everything the engine evaluates."""

    loaded: LoadedRules
    detector: SigmaDetector
    indicators: IndicatorMatcher
    errors: list[RuleError] = field(default_factory=list)
    fingerprint: tuple[Any, ...] = ()
    matcher: BatchMatcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = BatchMatcher(self.detector, self.indicators)


@dataclass(frozen=True)
class Matched:
    """The stateless half of detecting a batch (evidence, rule matching, single-event alerts, indicators),
    which may run in another process (collectors/reading.py); ``DetectionEngine.detect`` adds the stateful
    half, the correlation windows, in batch order. Per matched event: its index, the (rule id, alert or
    None for a silent rule) of every rule that matched and alerts or feeds a correlation, and when one is
    fed, the fields of the event (evidence included) that correlations read: the windows see the event as
    the rules saw it, and the full events need not travel back."""

    generation: int  # DetectionEngine.reloads when matched: a reload since makes it stale
    hits: list[Hit]
    indicator_alerts: list[Alert]


class DetectionEngine:
    def __init__(self, settings: DetectionSettings, *, resolve: Callable[[str], Path] = Path,
                 store: Store | None = None, clock: Callable[[], float] = time.monotonic,
                 checkpoint_seconds: float = CHECKPOINT_SECONDS) -> None:
        self.settings = settings
        self.resolve = resolve
        self.store = store if settings.correlation.checkpoint else None
        self.clock = clock
        self.reloads = 0
        self.checkpoint_seconds = checkpoint_seconds
        self._saved_at = float("-inf")
        self._interval = checkpoint_seconds
        self.current = self._build()
        self._checked = clock()
        if self.store is not None:
            self._restore(self.current.detector)

    # what the runtime reads ---------------------------------------------------------------------
    @property
    def detector(self) -> SigmaDetector:
        return self.current.detector

    @property
    def rule_count(self) -> int:
        return self.current.loaded.count

    @property
    def errors(self) -> list[RuleError]:
        return self.current.errors

    def rule_paths(self) -> list[Path]:
        paths = [builtin_rules_dir()] if self.settings.builtin_rules else []
        return paths + [self.resolve(path) for path in self.settings.rule_dirs]

    def indicator_paths(self) -> list[Path]:
        return [self.resolve(item.path) for item in self.settings.indicators]

    # the hot path -----------------------------------------------------------------------------------
    def detect(self, events: Sequence[Event], matched: Matched | None = None) -> list[Alert]:
        """Alerts for a batch. Rules see each event with its evidence fields (detectors/evidence.py), the same
        ones ``canhgac hunt`` and the rule fixtures compute; the events themselves are not changed. With
        ``matched`` (``match`` of the same events, perhaps done elsewhere), only the correlations run here."""
        self.maybe_reload()
        if matched is None or matched.generation != self.reloads:
            matched = self.match(events)
        return self._correlate(events, matched)

    def match(self, events: Sequence[Event]) -> Matched:
        """The stateless half of ``detect``; it reads no window and changes none, so any process may run it."""
        current = self.current
        hits, indicator_alerts = current.matcher.match(events)
        return Matched(self.reloads, hits, indicator_alerts)

    def _correlate(self, events: Sequence[Event], matched: Matched) -> list[Alert]:
        """The stateful half: the same alerts, in the same order, as ``SigmaDetector.detect`` + indicators."""
        correlation = self.current.detector.correlation
        feeds = correlation.inputs
        alerts: list[Alert] = []
        for _, found, seen in matched.hits:
            for rule_id, alert in found:
                if alert is not None:
                    alerts.append(alert)
                if rule_id in feeds:
                    alerts += correlation.observe(rule_id, seen)  # type: ignore[arg-type]
        return alerts + matched.indicator_alerts

    def drain_late(self) -> dict[str, int]:
        """Events left out of correlation windows as too late since the last call, per ``log.file.path``."""
        return self.current.detector.correlation.drain_late()

    def checkpoint(self) -> int:
        """Write the correlation windows changed since the last checkpoint; call after alerts are stored."""
        if self.store is None:
            return 0
        started = time.perf_counter()
        states = self.current.detector.correlation.snapshot()
        for rule_id, state in states.items():
            self.store.put_state(STATE_PREFIX + rule_id, state)
        self._saved_at = self.clock()
        # Big windows cost more to save: wait long enough that saving stays a small share of the work.
        self._interval = max(self.checkpoint_seconds, CHECKPOINT_COST_FACTOR * (time.perf_counter() - started))
        return len(states)

    def checkpoint_if_due(self) -> bool:
        """Checkpoint when ``checkpoint_seconds`` have passed since the last one. True when the saved windows
        now hold every event detected so far (so positions up to here may be saved too)."""
        if self.store is None:
            return True
        if self.clock() - self._saved_at < self._interval:
            return False
        self.checkpoint()
        return True

    # reloading --------------------------------------------------------------------------------------
    def maybe_reload(self) -> bool:
        every = self.settings.reload_seconds
        if every <= 0 or self.clock() - self._checked < every:
            return False
        self._checked = self.clock()
        if self._fingerprint() == self.current.fingerprint:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        """Load everything again and swap it in; open correlation windows carry over where rules are unchanged."""
        fresh = self._build()
        previous = self.current.detector.correlation.snapshot(only_dirty=False)
        fresh.detector.correlation.restore(previous)
        self.current = fresh
        self.reloads += 1
        log.info("detection reloaded: %d rules, %d errors", fresh.loaded.count, len(fresh.errors))

    def _build(self) -> RuleSet:
        fingerprint = self._fingerprint()
        options = ParseOptions(placeholders=self.settings.placeholders)
        loaded = load_rules(self.rule_paths(), options)
        errors = list(loaded.errors)
        lists: list[Indicators] = []
        for source, path in zip(self.settings.indicators, self.indicator_paths(), strict=True):
            try:
                lists.append(load_indicator_list(source, path))
            except RuleError as exc:
                errors.append(exc)
        for error in errors:
            log.warning("not loaded: %s", error)
        detector = SigmaDetector(loaded.rules, loaded.correlations,
                                 lateness_seconds=self.settings.correlation.allowed_lateness_seconds)
        return RuleSet(loaded, detector, IndicatorMatcher(lists), errors, fingerprint)

    def _restore(self, detector: SigmaDetector) -> None:
        assert self.store is not None
        states = {rule.id: self.store.get_state(STATE_PREFIX + rule.id) for rule in detector.correlation.correlations}
        detector.correlation.restore(states)

    def _fingerprint(self) -> tuple[Any, ...]:
        """Names, sizes and modification times of every rule and indicator file: cheap to take every few seconds."""
        found: list[tuple[str, int, int]] = []
        for path in [*self.rule_paths(), *self.indicator_paths()]:
            files = sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES) if path.is_dir() else [path]
            for file in files:
                try:
                    stat = file.stat()
                except OSError:
                    continue
                found.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(found)
