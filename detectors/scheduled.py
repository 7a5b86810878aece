"""Detector jobs that run on a timer (APScheduler), next to the detectors they drive."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from canhgac.core.model import Alert

log = logging.getLogger(__name__)


def schedule_detector_job(scheduler: BackgroundScheduler, name: str, run: Callable[[], list[Alert]],
                          on_alerts: Callable[[Sequence[Alert]], object], interval_seconds: int) -> None:
    """``run`` every ``interval_seconds`` and once at start-up (so a restart catches up at once); its alerts go
    to ``on_alerts``. One run at a time: a slow run delays the next instead of overlapping it."""
    def job() -> None:
        try:
            alerts = run()
        except Exception:  # a failed run must not stop the schedule; the next run retries
            log.exception("%s detection run failed", name)
            return
        if alerts:
            on_alerts(alerts)

    # the first run at once, as the interval job itself: a one-shot job finishing after a shutdown began makes
    # APScheduler's thread fail removing it
    scheduler.add_job(job, "interval", seconds=interval_seconds, id=name, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC))


def schedule_anomaly_job(scheduler: BackgroundScheduler, detector: object,
                         on_alerts: Callable[[Sequence[Alert]], object], interval_seconds: int) -> None:
    schedule_detector_job(scheduler, "anomaly", detector.run, on_alerts, interval_seconds)  # type: ignore[attr-defined]
