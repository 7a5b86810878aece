"""Traffic anomalies per agency: an IsolationForest over windowed features, with the features that made
a window stand out. See docs/decisions/0004-anomaly-windows.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from canhgac.core.config import AnomalySettings
from canhgac.core.model import Alert, Severity, stable_id, to_utc_iso, utcnow
from canhgac.storage.base import EventQuery, Store, WindowFeatures

RULE_ID = "canhgac-anomaly-traffic"
RULE_TITLE = "Lưu lượng truy cập bất thường"
FEATURES = ("requests", "error_rate", "distinct_sources")
#: A window must also be this many robust standard deviations off on some feature, so that the forest's
#: ranking alone (which always finds *some* outlier) does not raise alerts on ordinary noise...
MIN_DEVIATION = 3.0
#: ...and differ by a margin that matters to people: counts at least doubled or halved, error rate up or down
#: by 20 points. Without it, an hour of steady traffic makes a handful of extra requests "significant".
MIN_COUNT_RATIO = 2.0
MIN_ERROR_RATE_CHANGE = 0.2
MAX_CATCH_UP = 3
TAGS = {"requests": ["attack.impact", "attack.t1498"], "distinct_sources": ["attack.impact", "attack.t1498"],
        "error_rate": ["attack.reconnaissance", "attack.t1595"]}


@dataclass(frozen=True)
class Deviation:
    feature: str
    value: float
    baseline: float  # median of the history
    score: float  # robust z-score

    @property
    def matters(self) -> bool:
        if abs(self.score) < MIN_DEVIATION:
            return False
        if self.feature == "error_rate":
            return abs(self.value - self.baseline) >= MIN_ERROR_RATE_CHANGE
        high, low = max(self.value, self.baseline), min(self.value, self.baseline)
        return high >= MIN_COUNT_RATIO * max(low, 1.0)

    def as_dict(self) -> dict[str, float | str]:
        return {"feature": self.feature, "value": round(self.value, 4), "baseline": round(self.baseline, 4),
                "z": round(self.score, 2)}


def _vector(window: WindowFeatures) -> list[float]:
    return [float(window.requests), window.error_rate, float(window.distinct_sources)]


def _model_input(rows: np.ndarray) -> np.ndarray:
    out = rows.copy()
    out[:, 0] = np.log1p(out[:, 0])
    out[:, 2] = np.log1p(out[:, 2])
    return out


def deviations(history: np.ndarray, current: np.ndarray) -> list[Deviation]:
    """Robust z-scores (median / MAD) of the current window against its history, largest first."""
    found = []
    for index, name in enumerate(FEATURES):
        column = history[:, index]
        median = float(np.median(column))
        spread = 1.4826 * float(np.median(np.abs(column - median)))
        spread = max(spread, float(np.std(column)), 1e-3 if name == "error_rate" else 1.0)
        found.append(Deviation(name, float(current[index]), median, (float(current[index]) - median) / spread))
    return sorted(found, key=lambda d: -abs(d.score))


class TrafficAnomalyDetector:
    def __init__(self, store: Store, settings: AnomalySettings, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    @property
    def width(self) -> timedelta:
        return timedelta(minutes=self.settings.window_minutes)

    def run(self) -> list[Alert]:
        """Score every complete window not scored before; return alerts for the outlying ones."""
        width = self.width
        seconds = int(width.total_seconds())
        now = self.clock()
        # Only windows closed for at least the grace period: the current one and any still receiving late lines
        # are left for a later run.
        closed = int(now.timestamp()) - self.settings.grace_seconds
        end = datetime.fromtimestamp(closed // seconds * seconds, UTC)
        start = end - width * self.settings.history_windows
        by_agency: dict[str, list[WindowFeatures]] = {}
        for window in self.store.window_features(EventQuery(start=start, end=end), seconds):
            by_agency.setdefault(window.agency, []).append(window)
        alerts: list[Alert] = []
        for agency, windows in by_agency.items():
            alerts += self._score_agency(agency, _fill_gaps(agency, windows, width, end))
        return alerts

    def _score_agency(self, agency: str, windows: list[WindowFeatures]) -> list[Alert]:
        key = f"anomaly:{agency}"
        scored_until = (self.store.get_state(key) or {}).get("scored_until")
        rows = np.array([_vector(w) for w in windows], dtype=float)
        unscored = [i for i, w in enumerate(windows)
                    if i >= self.settings.min_windows and not (scored_until and to_utc_iso(w.start) <= scored_until)]
        alerts = []
        for index in unscored[-MAX_CATCH_UP:]:  # after a long pause, only the recent past is worth an alert
            window = windows[index]
            history = rows[:index]
            from sklearn.ensemble import IsolationForest  # scikit-learn takes seconds to import: only when fitting

            forest = IsolationForest(n_estimators=100, contamination=self.settings.contamination, random_state=0)
            forest.fit(_model_input(history))
            outlying = forest.predict(_model_input(rows[index:index + 1]))[0] == -1
            standing_out = [d for d in deviations(history, rows[index]) if d.matters]
            if outlying and standing_out:
                score = float(forest.decision_function(_model_input(rows[index:index + 1]))[0])
                alerts.append(self._alert(window, standing_out, score))
        if windows:
            self.store.put_state(key, {"scored_until": to_utc_iso(windows[-1].start)})
        return alerts

    def _alert(self, window: WindowFeatures, standing_out: list[Deviation], score: float) -> Alert:
        strongest = max(abs(d.score) for d in standing_out)
        tags = sorted({t for d in standing_out for t in TAGS[d.feature]})
        return Alert(
            id=stable_id("anomaly", window.agency, to_utc_iso(window.start)),
            detector="anomaly", rule_id=RULE_ID, rule_title=RULE_TITLE,
            severity=Severity.high if strongest >= 2 * MIN_DEVIATION else Severity.medium,
            tags=tags, agency=window.agency, first_seen=window.start, last_seen=window.start + self.width,
            count=window.requests,
            details={"window_start": to_utc_iso(window.start), "window_minutes": self.settings.window_minutes,
                     "anomaly_score": round(score, 4), "threshold": MIN_DEVIATION,
                     "features": [d.as_dict() for d in standing_out]},
        )


def _fill_gaps(agency: str, windows: list[WindowFeatures], width: timedelta,
               end: datetime) -> list[WindowFeatures]:
    """Windows without any event are real data (a silent portal is news), so they count as zeros."""
    present = {w.start: w for w in windows}
    out = []
    moment = windows[0].start
    while moment < end:
        out.append(present.get(moment) or WindowFeatures(agency, moment, 0, 0, 0))
        moment += width
    return out
