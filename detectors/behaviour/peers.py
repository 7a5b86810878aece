"""Peer figures: what officials of the same unit and role, or clients of the same API, usually do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from canhgac.core.config_detection import BehaviourSettings
from canhgac.detectors.behaviour.baseline import Baseline
from canhgac.detectors.behaviour.scoring import peer_value

if TYPE_CHECKING:
    from canhgac.detectors.behaviour.detector import Baselines


def peer_group(baseline: Baseline) -> tuple[str, ...]:
    profile = baseline.profile
    if baseline.key.kind == "official":
        return (baseline.key.agency, "official", profile.get("egov.unit.id", ""), profile.get("user.roles", ""))
    return (baseline.key.agency, "client", profile.get("main_api", ""))


class PeerIndex:
    """Peer medians for the hour being scored, computed on first use (entities are scored in a fixed order,
    so live detection and a replay see the same figures)."""

    def __init__(self, baselines: Baselines, settings: BehaviourSettings) -> None:
        self.baselines = baselines
        self.settings = settings
        self._groups: dict[tuple[str, ...], list[Baseline]] = {}
        self._cache: dict[tuple[tuple[str, ...], str, str, str], float | None] = {}

    def _members(self, baseline: Baseline) -> list[Baseline]:
        group = peer_group(baseline)
        if group not in self._groups:
            self._groups[group] = [b for b in self.baselines.of_agency(baseline.key.agency)
                                   if b.key.kind == baseline.key.kind and peer_group(b) == group]
        return self._groups[group]

    def hourly(self, baseline: Baseline) -> dict[str, float | None]:
        return _Lookup(self, baseline, "hour")  # type: ignore[return-value]

    def daily(self, baseline: Baseline) -> dict[str, float | None]:
        return _Lookup(self, baseline, "day")  # type: ignore[return-value]

    def value(self, baseline: Baseline, feature: str, step: str) -> float | None:
        group = peer_group(baseline)
        cache_key = (group, feature, step, baseline.key.id)
        if cache_key not in self._cache:
            values = []
            for other in self._members(baseline):
                if other.key == baseline.key:
                    continue
                if step == "hour":
                    rolling = other.hours.get(feature)
                    if rolling is not None and rolling.n >= self.settings.warmup_hours:
                        values.append(rolling.mean)
                elif other.active_days >= self.settings.warmup_days:
                    values.append(other.daily_median(feature)[0])
            self._cache[cache_key] = peer_value(values, self.settings)
        return self._cache[cache_key]


class _Lookup(dict):  # type: ignore[type-arg]
    """A mapping feature → peer median, computed on first access."""

    def __init__(self, index: PeerIndex, baseline: Baseline, step: str) -> None:
        super().__init__()
        self.index, self.baseline, self.step = index, baseline, step

    def get(self, feature: str, default: float | None = None) -> float | None:  # type: ignore[override]
        return self.index.value(self.baseline, feature, self.step)
