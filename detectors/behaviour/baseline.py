"""One entity's normal, kept compact in the store: rolling statistics of its active hours, its last active
days' totals, an hour-of-week activity profile, the networks, devices and procedures it uses, and the
cumulative-excess (CUSUM) state that catches slow exfiltration. Plain JSON, so both stores keep it alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from canhgac.core.timeutil import VIETNAM
from canhgac.detectors.behaviour.features import EntityHour, EntityKey

#: Active hours the rolling mean and spread remember (an exponential window of about this many hours).
HOUR_MEMORY = 200
#: Active days kept for the daily median, and the recent hours kept for the chart.
DAYS_KEPT = 28
RECENT_HOURS = 48
KNOWN_LIMIT = 16
PROCEDURES_LIMIT = 64
DAY_EVIDENCE = 20
PEAK_WEEKS = 5


def hour_of_week(moment: datetime) -> int:
    local = moment.astimezone(VIETNAM)
    return local.weekday() * 24 + local.hour


def local_day(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).date().isoformat()


@dataclass
class Rolling:
    """Exponentially weighted mean and variance over the hours the entity was active."""

    n: int = 0
    mean: float = 0.0
    var: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        alpha = 1.0 / min(self.n, HOUR_MEMORY)
        delta = value - self.mean
        self.mean += alpha * delta
        self.var = (1 - alpha) * (self.var + alpha * delta * delta)

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))


@dataclass
class Baseline:
    key: EntityKey
    profile: dict[str, str] = field(default_factory=dict)
    first_seen: str | None = None
    active_hours: int = 0
    hours: dict[str, Rolling] = field(default_factory=dict)
    how: list[int] = field(default_factory=lambda: [0] * 168)
    weeks: list[str] = field(default_factory=list)  # ISO weeks seen (at most the last 8), for the profile's base
    day_dates: list[str] = field(default_factory=list)
    days: dict[str, list[float]] = field(default_factory=dict)  # per feature, parallel to day_dates
    today: str | None = None
    today_counts: dict[str, float] = field(default_factory=dict)
    today_evidence: dict[str, list[list[Any]]] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)  # network → last day seen
    devices: dict[str, str] = field(default_factory=dict)
    procedures: dict[str, int] = field(default_factory=dict)
    cusum: dict[str, list[Any]] = field(default_factory=dict)  # feature → [S, excess, first day]
    recent: list[list[Any]] = field(default_factory=list)  # [hour start ISO, {feature: value}]
    #: per feature, the largest value seen at each hour of the week in the recent weeks: {how: [value, week]}
    peaks: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    # reading -----------------------------------------------------------------------------------
    @property
    def active_days(self) -> int:
        return len(self.day_dates)

    def usual_times_of_day(self, *, share: float = 0.1) -> set[int]:
        """Local hours of the day (0–23) the entity works at on at least ``share`` of its active days, widened by
        an hour on each side."""
        days = max(self.active_days, 1)
        core = {h for h in range(24) if sum(self.how[d * 24 + h] for d in range(7)) / days >= share}
        return core | {(h - 1) % 24 for h in core} | {(h + 1) % 24 for h in core}

    def seasonal_peak(self, feature: str, how: int, *, spread: int = 2) -> float:
        """The largest value of ``feature`` the entity had within ``spread`` hours of this hour of the week, in
        the weeks kept: a weekly report exported every Friday afternoon is its normal, not a burst."""
        recent = set(self.weeks[-PEAK_WEEKS:])
        found = 0.0
        for slot, (value, week) in self.peaks.get(feature, {}).items():
            distance = abs(int(slot) - how)
            if min(distance, 168 - distance) <= spread and week in recent:
                found = max(found, float(value))
        return found

    def usual_hours(self, *, share: float = 0.08) -> set[int]:
        """Hours of the week (0 = Monday 00–01 local) the entity works on at least ``share`` of the weeks seen,
        widened by an hour on each side of the day (starting early, staying late)."""
        weeks = max(len(self.weeks), 1)
        core = {h for h, n in enumerate(self.how) if n / weeks >= share}
        widened = set(core)
        for h in core:
            widened.update({(h - 1) % 168, (h + 1) % 168})
        return widened

    def daily_median(self, feature: str) -> tuple[float, float]:
        """Median and robust spread of the feature's daily totals over the kept active days."""
        values = sorted(self.days.get(feature, []))
        if not values:
            return 0.0, 1.0
        median = _median(values)
        mad = _median(sorted(abs(v - median) for v in values))
        spread = max(1.4826 * mad, math.sqrt(median), 0.15 * median, 1.0)
        return median, spread

    # learning ----------------------------------------------------------------------------------
    def learn_hour(self, hour: EntityHour, features: tuple[str, ...]) -> None:
        self.first_seen = self.first_seen or hour.start.isoformat()
        self.profile.update(hour.profile)
        self.active_hours += 1
        for name in features:
            self.hours.setdefault(name, Rolling()).add(hour.counts.get(name, 0.0))
        year, number, _ = hour.start.astimezone(VIETNAM).isocalendar()
        week = f"{year}-W{number:02d}"
        if week not in self.weeks:
            self.weeks = [*self.weeks, week][-8:]
        slot = hour_of_week(hour.start)
        self.how[slot] += 1
        recent = set(self.weeks[-PEAK_WEEKS:])
        for name in features:
            value = hour.counts.get(name, 0.0)
            if value <= 0:
                continue
            kept = self.peaks.setdefault(name, {})
            before = kept.get(str(slot))
            if before is None or before[1] not in recent or float(before[0]) < value:
                kept[str(slot)] = [value, week]
            for stale in [k for k, (_, w) in kept.items() if w not in recent]:
                del kept[stale]
        self.remember_sets(hour)

    def learn_counts(self, counts: dict[str, float], features: tuple[str, ...]) -> None:
        """An hour known only by its counts (an alert's window marked as expected work)."""
        self.active_hours += 1
        for name in features:
            self.hours.setdefault(name, Rolling()).add(counts.get(name, 0.0))

    def learn_day(self, day: str, counts: dict[str, float], features: tuple[str, ...]) -> None:
        saved = self.today, self.today_counts, self.today_evidence
        self.today, self.today_counts = day, counts
        self.close_day(features, learn=True)
        self.today, self.today_counts, self.today_evidence = saved

    def remember_sets(self, hour: EntityHour) -> None:
        day = local_day(hour.start)
        for known, seen in ((self.networks, hour.networks), (self.devices, hour.devices)):
            for name in seen:
                known[name] = day
            if len(known) > KNOWN_LIMIT:
                for name in sorted(known, key=lambda n: (known[n], n))[:len(known) - KNOWN_LIMIT]:
                    del known[name]
        for name, amount in hour.procedures.items():
            self.procedures[name] = self.procedures.get(name, 0) + amount
        if len(self.procedures) > PROCEDURES_LIMIT:
            kept = sorted(self.procedures.items(), key=lambda item: (-item[1], item[0]))[:PROCEDURES_LIMIT]
            self.procedures = dict(kept)

    def add_to_today(self, hour: EntityHour, features: tuple[str, ...], main: dict[str, str]) -> None:
        for name in features:
            self.today_counts[name] = self.today_counts.get(name, 0.0) + hour.counts.get(name, 0.0)
        for name, source in main.items():
            kept = self.today_evidence.setdefault(name, [])
            kept.extend([[hour.counts.get(source, 0.0), event_id] for event_id in hour.evidence_for(source)])
            kept.sort(key=lambda item: (-item[0], item[1]))
            del kept[DAY_EVIDENCE:]

    def add_recent(self, hour: EntityHour) -> None:
        self.recent = [*self.recent, [hour.start.isoformat(), dict(hour.counts)]][-RECENT_HOURS:]

    def close_day(self, features: tuple[str, ...], *, learn: bool) -> None:
        if learn and self.today is not None:
            self.day_dates = [*self.day_dates, self.today][-DAYS_KEPT:]
            for name in features:
                values = self.days.get(name, [])
                # the lists stay parallel to day_dates: a feature first seen today had zeros before
                values = [0.0] * (len(self.day_dates) - 1 - len(values)) + values
                self.days[name] = [*values, round(self.today_counts.get(name, 0.0), 3)][-DAYS_KEPT:]
        self.today, self.today_counts, self.today_evidence = None, {}, {}

    # storing -----------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {"key": self.key.text, "profile": self.profile, "first_seen": self.first_seen,
                "active_hours": self.active_hours,
                "hours": {k: [r.n, r.mean, r.var] for k, r in sorted(self.hours.items())},
                "how": self.how, "weeks": self.weeks, "day_dates": self.day_dates, "days": self.days,
                "today": self.today, "today_counts": self.today_counts, "today_evidence": self.today_evidence,
                "networks": self.networks, "devices": self.devices, "procedures": self.procedures,
                "cusum": self.cusum, "recent": self.recent, "peaks": self.peaks}

    @classmethod
    def from_state(cls, doc: dict[str, Any]) -> Baseline:
        return cls(key=EntityKey.parse(doc["key"]), profile=dict(doc.get("profile") or {}),
                   first_seen=doc.get("first_seen"), active_hours=int(doc.get("active_hours", 0)),
                   hours={k: Rolling(int(v[0]), float(v[1]), float(v[2])) for k, v in (doc.get("hours") or {}).items()},
                   how=list(doc.get("how") or [0] * 168), weeks=list(doc.get("weeks") or []),
                   day_dates=list(doc.get("day_dates") or []),
                   days={k: [float(x) for x in v] for k, v in (doc.get("days") or {}).items()},
                   today=doc.get("today"),
                   today_counts={k: float(v) for k, v in (doc.get("today_counts") or {}).items()},
                   today_evidence={k: list(v) for k, v in (doc.get("today_evidence") or {}).items()},
                   networks=dict(doc.get("networks") or {}), devices=dict(doc.get("devices") or {}),
                   procedures={k: int(v) for k, v in (doc.get("procedures") or {}).items()},
                   cusum={k: list(v) for k, v in (doc.get("cusum") or {}).items()},
                   recent=[list(item) for item in doc.get("recent") or []],
                   peaks={k: {slot: list(v) for slot, v in slots.items()}
                          for k, slots in (doc.get("peaks") or {}).items()})


def _median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def hour_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def closes_local_day(start: datetime) -> bool:
    """Whether the hour beginning at ``start`` is the last of a local (Asia/Ho_Chi_Minh) day."""
    return (start + timedelta(hours=1)).astimezone(VIETNAM).hour == 0
