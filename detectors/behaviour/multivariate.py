"""A multivariate check of closed days: an IsolationForest over every entity's kept days, each day expressed
against the entity's own median, so that a day unusual in several features at once stands out even when no
single feature is extreme. Refitted at each day's close (deterministic: same days in, same scores out)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from canhgac.detectors.behaviour.baseline import Baseline
from canhgac.detectors.behaviour.features import EntityKey
from canhgac.detectors.behaviour.scoring import volume_features

MIN_ROWS = 200


def _row(values: dict[str, float], medians: dict[str, float], features: tuple[str, ...]) -> list[float]:
    return [math.log1p(max(values.get(f, 0.0), 0.0)) - math.log1p(medians[f]) for f in features]


def day_outliers(today: list[Baseline], population: Iterable[Baseline]) -> dict[EntityKey, float]:
    """Decision values (negative: outlying) of today's entity-days, per entity kind; entities without kept
    days, and kinds with too few kept days to learn from, get none."""
    scores: dict[EntityKey, float] = {}
    everyone = sorted(population, key=lambda b: b.key)  # the forest's sampling depends on row order
    for kind in ("official", "client"):
        features = volume_features(kind)
        history = []
        for baseline in everyone:
            if baseline.key.kind != kind or not baseline.day_dates:
                continue
            medians = {f: baseline.daily_median(f)[0] for f in features}
            for index in range(len(baseline.day_dates)):
                values = {f: (baseline.days.get(f) or [0.0] * len(baseline.day_dates))[index] for f in features}
                history.append(_row(values, medians, features))
        scored = [b for b in sorted(today, key=lambda b: b.key) if b.key.kind == kind and b.day_dates]
        if len(history) < MIN_ROWS or not scored:
            continue
        from sklearn.ensemble import IsolationForest  # scikit-learn takes seconds to import: only when fitting

        forest = IsolationForest(n_estimators=100, random_state=0, contamination="auto")
        forest.fit(np.array(history, dtype=float))
        rows = np.array([_row(b.today_counts, {f: b.daily_median(f)[0] for f in features}, features)
                         for b in scored], dtype=float)
        for baseline, value in zip(scored, forest.decision_function(rows), strict=True):
            scores[baseline.key] = float(value)
    return scores
