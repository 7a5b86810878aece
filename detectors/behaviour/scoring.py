"""The tests a closed hour or a closed day must pass against the entity's own normal and its peers'.

Each test yields ``Finding``s; a window with findings becomes one alert per rule. The thresholds are the
``detection.behaviour`` settings; docs/decisions/0045-behaviour-baselines.md explains each choice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from canhgac.core.config_detection import BehaviourSettings
from canhgac.core.timeutil import VIETNAM
from canhgac.detectors.behaviour.baseline import Baseline, hour_of_week
from canhgac.detectors.behaviour.features import EntityHour

OFFICIAL_VOLUME = ("exports", "downloads", "prints", "views", "records")
CLIENT_VOLUME = ("records", "calls", "bytes", "distinct_apis")
#: What leaves the system: downloads and prints (views stay on screen and swing with the calendar; exports
#: are bursty by nature and the hourly and daily tests see one far beyond normal).
DRIFT_FEATURES = {"official": ("downloads", "prints"), "client": ("records", "calls")}


@dataclass(frozen=True)
class Finding:
    feature: str
    value: float
    baseline_mean: float
    baseline_std: float
    peer_median: float | None
    z: float
    ratio: float

    def as_dict(self) -> dict[str, float | str | None]:
        return {"feature": self.feature, "value": round(self.value, 2), "baseline_mean": round(self.baseline_mean, 2),
                "baseline_std": round(self.baseline_std, 2),
                "peer_median": None if self.peer_median is None else round(self.peer_median, 2),
                "z": round(self.z, 2), "ratio": round(self.ratio, 2)}


@dataclass(frozen=True)
class Verdict:
    rule: str  # volume | enumeration | scope | off-hours | drift
    findings: tuple[Finding, ...]
    new_networks: tuple[str, ...] = ()
    new_devices: int = 0
    multivariate_score: float | None = None
    since: str | None = None  # a drift's first local day


def volume_features(kind: str) -> tuple[str, ...]:
    return OFFICIAL_VOLUME if kind == "official" else CLIENT_VOLUME


def _warm_hours(baseline: Baseline, settings: BehaviourSettings) -> bool:
    return baseline.active_days >= settings.warmup_days and baseline.active_hours >= settings.warmup_hours


def _hour_finding(baseline: Baseline, feature: str, value: float, peer: float | None) -> Finding:
    rolling = baseline.hours.get(feature)
    mean, std = (rolling.mean, rolling.std) if rolling else (0.0, 0.0)
    spread = max(std, math.sqrt(max(mean, 0.0)), 1.0)
    return Finding(feature, value, mean, std, peer, (value - mean) / spread, value / max(mean, 1.0))


def _peer_ok(value: float, peer: float | None, ratio: float) -> bool:
    return peer is None or value >= ratio * max(peer, 1.0)


def score_hour(hour: EntityHour, baseline: Baseline, peers: dict[str, float | None],
               settings: BehaviourSettings, crowd: Callable[[str, float], bool] = lambda f, v: False
               ) -> list[Verdict]:
    """Verdicts for one entity's closed hour, judged against its baseline *before* this hour is learned.
    ``crowd(feature, value)``: whether many officials of the same role did as much today (month-end reports)."""
    warm = _warm_hours(baseline, settings)
    counts = hour.counts
    verdicts: list[Verdict] = []
    volume = []
    slot = hour_of_week(hour.start)
    for feature in volume_features(hour.key.kind):
        value = counts.get(feature, 0.0)
        if value < settings.min_volume(feature) or crowd(feature, value):
            continue
        finding = _hour_finding(baseline, feature, value, peers.get(feature))
        if warm:
            hit = (finding.z >= settings.hour_z and finding.ratio >= settings.hour_ratio
                   and _peer_ok(value, finding.peer_median, settings.peer_ratio)
                   and value >= settings.seasonal_ratio * baseline.seasonal_peak(feature, slot))
        else:  # too new for its own normal: only far above its peers counts
            hit = (finding.peer_median is not None and value >= 2 * settings.min_volume(feature)
                   and value >= 2 * settings.peer_ratio * max(finding.peer_median, 1.0))
        if hit:
            volume.append(finding)
    if volume:
        verdicts.append(Verdict("volume", tuple(sorted(volume, key=lambda f: -f.ratio))))
    if hour.key.kind == "official":
        verdicts += _official_patterns(hour, baseline, peers, settings, warm)
    off = _off_hours(hour, baseline, settings)
    if off is not None:
        verdicts.append(off)
    return verdicts


def _official_patterns(hour: EntityHour, baseline: Baseline, peers: dict[str, float | None],
                       settings: BehaviourSettings, warm: bool) -> list[Verdict]:
    counts = hour.counts
    touched = max(counts.get("records", 0.0), 1.0)
    out = []
    sequential = counts.get("sequential", 0.0)
    if sequential >= settings.min_volume("sequential") and sequential >= settings.sequential_share * touched:
        finding = _hour_finding(baseline, "sequential", sequential, peers.get("sequential"))
        if not warm or (finding.ratio >= settings.hour_ratio and finding.z >= settings.hour_z):
            out.append(Verdict("enumeration", (finding,)))
    scope = []
    handled = sum(counts.get(f, 0.0) for f in ("views", "downloads", "prints", "exports")) or 1.0
    for feature in ("outside_unit", "outside_procedure"):
        value = counts.get(feature, 0.0)
        if value < settings.min_volume(feature) or value < settings.outside_share * handled:
            continue
        if feature == "outside_procedure" and not warm:
            continue  # "never handled" means nothing before the official's procedures are known
        finding = _hour_finding(baseline, feature, value, peers.get(feature))
        if not warm or (finding.ratio >= settings.hour_ratio and finding.z >= settings.hour_z):
            scope.append(finding)
    if scope:
        out.append(Verdict("scope", tuple(scope)))
    return out


def new_networks(hour: EntityHour, baseline: Baseline) -> tuple[tuple[str, ...], int]:
    if not baseline.networks:
        return (), 0
    networks = tuple(sorted(n for n in hour.networks if n not in baseline.networks))
    devices = sum(1 for d in hour.devices if d not in baseline.devices) if baseline.devices else 0
    return networks, devices


def _off_hours(hour: EntityHour, baseline: Baseline, settings: BehaviourSettings) -> Verdict | None:
    """An hour of the week the entity does not work. At a time of day it works on other days (a Saturday
    morning's overtime), only a new network or device, or three times the volume, is worth an alert; at a time
    of day it never works (the night), the volume alone is."""
    if baseline.active_days < settings.warmup_days or len(baseline.weeks) < 2:
        return None
    if hour_of_week(hour.start) in baseline.usual_hours():
        return None
    actions = hour.counts.get("actions" if hour.key.kind == "official" else "calls", 0.0)
    networks, devices = new_networks(hour, baseline)
    needed = settings.off_hours_min_actions * (1 if hour.key.kind == "official" else 10)
    if hour.start.astimezone(VIETNAM).hour in baseline.usual_times_of_day():
        needed *= 3
    if actions < needed and not ((networks or devices) and actions >= settings.off_hours_min_new):
        return None
    typical = baseline.hours.get("actions" if hour.key.kind == "official" else "calls")
    mean = typical.mean if typical else 0.0
    finding = Finding("off_hours", actions, 0.0, 0.0, None, actions / max(math.sqrt(mean), 1.0),
                      actions / max(mean, 1.0))
    return Verdict("off-hours", (finding,), networks, devices)


# days ---------------------------------------------------------------------------------------------
def _day_finding(baseline: Baseline, feature: str, value: float, peer: float | None) -> Finding:
    middle, spread = baseline.daily_median(feature)
    return Finding(feature, value, middle, spread, peer, (value - middle) / spread, value / max(middle, 1.0))


def score_day(baseline: Baseline, peers: dict[str, float | None], settings: BehaviourSettings,
              outlying: float | None, crowd: Callable[[str, float], bool] = lambda f, v: False) -> list[Verdict]:
    """Verdicts for the local day that just closed (``baseline.today_counts``), before it is learned.
    ``outlying``: the multivariate model's decision value for this entity-day (negative: an outlier)."""
    if baseline.active_days < settings.warmup_days:
        return []
    findings = []
    for feature in volume_features(baseline.key.kind):
        value = baseline.today_counts.get(feature, 0.0)
        if value < settings.day_min_volume(feature) or crowd(feature, value):
            continue
        finding = _day_finding(baseline, feature, value, peers.get(feature))
        strong = finding.z >= settings.day_z and finding.ratio >= settings.day_ratio
        corroborated = (outlying is not None and outlying < 0 and finding.z >= 0.6 * settings.day_z
                        and finding.ratio >= 0.6 * settings.day_ratio)
        if (strong or corroborated) and _peer_ok(value, finding.peer_median, settings.peer_ratio * 0.8):
            findings.append(finding)
    verdicts = []
    if findings:
        verdicts.append(Verdict("volume", tuple(sorted(findings, key=lambda f: -f.ratio)),
                                multivariate_score=outlying))
    if baseline.key.kind == "official":
        scope = _day_scope(baseline, settings)
        if scope:
            verdicts.append(Verdict("scope", scope))
    return verdicts


def _day_scope(baseline: Baseline, settings: BehaviourSettings) -> tuple[Finding, ...]:
    """A day's few records of other units or procedures, each hour too small to notice, far above the
    official's own daily normal (an official who never leaves their unit's files)."""
    found = []
    for feature in ("outside_unit", "outside_procedure"):
        value = baseline.today_counts.get(feature, 0.0)
        if value < settings.day_scope_min:
            continue
        finding = _day_finding(baseline, feature, value, None)
        if finding.ratio >= settings.day_ratio * 1.5 and finding.z >= settings.day_z:
            found.append(finding)
    return tuple(found)


def _level(values: list[float]) -> tuple[float, float]:
    """A trimmed mean and spread of daily totals (the busiest and quietest day left out): the level a run of
    days is summed against, since a run's sum has the mean's expectation, not the median's."""
    ordered = sorted(values)
    kept = ordered[1:-1] if len(ordered) >= 5 else ordered
    mean = sum(kept) / len(kept)
    spread = math.sqrt(sum((v - mean) ** 2 for v in kept) / max(len(kept) - 1, 1))
    return mean, max(spread, math.sqrt(mean), 1.0)


def advance_drift(baseline: Baseline, settings: BehaviourSettings, day: str) -> Verdict | None:
    """Slow exfiltration: the longest run of active days, ending today, each above the entity's level of the
    days before the run, whose summed excess is ``drift_z`` standard errors above it and adds up to several
    normal days of records. One alert per run (``baseline.cusum`` remembers the run that fired)."""
    fired = []
    since = day
    for feature in DRIFT_FEATURES[baseline.key.kind]:
        values = [*baseline.days.get(feature, []), baseline.today_counts.get(feature, 0.0)]
        best: tuple[int, float, float] | None = None
        for run in range(1, min(settings.drift_max_days, len(values) - settings.drift_reference_days) + 1):
            level, spread = _level(values[:-run])
            if values[-run] <= level:
                break
            best = (run, level, spread)
        if best is None or best[0] < 2:
            baseline.cusum.pop(feature, None)
            continue
        run, level, spread = best
        first = baseline.day_dates[-(run - 1)]
        if baseline.cusum.get(feature, [None])[0] == first:
            continue  # this run already alerted
        done = sum(values[-run:])
        excess = done - level * run
        score = excess / (spread * math.sqrt(run))
        if score >= settings.drift_z and excess >= max(settings.drift_days_worth * level, settings.drift_min_excess):
            fired.append(Finding(feature, done, level, spread, None, score, done / max(level * run, 1.0)))
            baseline.cusum[feature] = [first]
            since = min(since, first)
    return Verdict("drift", tuple(fired), since=since) if fired else None


def standing_out(baseline: Baseline, counts: dict[str, float], step: str, settings: BehaviourSettings) -> set[str]:
    """Features in which the entity does far more than its own mean (hour) or median (day), whatever its
    seasonality or spread: what makes it one of a crowd."""
    out = set()
    for feature in volume_features(baseline.key.kind):
        value = counts.get(feature, 0.0)
        if step == "hour":
            rolling = baseline.hours.get(feature)
            mean, least, ratio = (rolling.mean if rolling else 0.0), settings.min_volume(feature), settings.hour_ratio
        else:
            mean, least, ratio = baseline.daily_median(feature)[0], settings.day_min_volume(feature), settings.day_ratio
        if value >= least and value >= ratio * max(mean, 1.0):
            out.add(feature)
    return out


def peer_value(values: list[float], settings: BehaviourSettings) -> float | None:
    return float(median(values)) if len(values) >= settings.min_peers else None
