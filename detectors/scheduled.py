"""Detector jobs that run on a timer (APScheduler), next to the detectors they drive."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from apscheduler.schedulers.background import BackgroundScheduler
from canhgac.core.model import Alert
from canhgac.detectors.anomaly import TrafficAnomalyDetector

log = logging.getLogger(__name__)


def schedule_anomaly_job(scheduler: BackgroundScheduler, detector: TrafficAnomalyDetector,
                         on_alerts: Callable[[Sequence[Alert]], object], interval_seconds: int) -> None:
    def job() -> None:
        try:
            alerts = detector.run()
        except Exception:  # a failed run must not stop the schedule; the next run retries
            log.exception("anomaly detection run failed")
            return
        if alerts:
            on_alerts(alerts)

    scheduler.add_job(job, "interval", seconds=interval_seconds, id="anomaly", max_instances=1, coalesce=True)
    scheduler.add_job(job, id="anomaly-first-run")  # once at start-up, so a restart catches up at once
