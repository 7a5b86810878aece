"""Configuration of the detectors (the ``detection:`` block)."""

from __future__ import annotations

from typing import Annotated, Literal

from canhgac.core.config_base import StrictModel
from canhgac.core.model import Severity
from pydantic import Field


class AnomalySettings(StrictModel):
    enabled: bool = True
    interval_seconds: Annotated[int, Field(ge=5)] = 300
    window_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    history_windows: Annotated[int, Field(ge=8)] = 288
    min_windows: Annotated[int, Field(ge=8)] = 24
    contamination: Annotated[float, Field(gt=0, le=0.5)] = 0.02
    grace_seconds: Annotated[int, Field(ge=0, le=3600, description=(
        "How long after a window closes it is scored, so that late lines (buffered shippers, rotated files) "
        "are counted in it first"))] = 60


#: Smallest value of a feature in one hour worth an alert (a day needs twice as much): below these, a
#: quiet account doubling its work is not news.
BEHAVIOUR_MIN_VOLUME = {"views": 60, "downloads": 40, "prints": 40, "exports": 100, "records": 60,
                        "outside_unit": 15, "outside_procedure": 20, "sequential": 15,
                        "calls": 300, "bytes": 50_000_000, "distinct_apis": 4}


class BehaviourSettings(StrictModel):
    """Data-leak analytics per official and API client (docs/decisions/0045-behaviour-baselines.md)."""

    enabled: bool = True
    interval_seconds: Annotated[int, Field(ge=5)] = 300
    grace_minutes: Annotated[int, Field(ge=0, le=180, description=(
        "How long after an hour closes it is scored, so late lines are counted in it first"))] = 10
    backfill_days: Annotated[int, Field(ge=1, le=400, description=(
        "How far back the first run (and a replay without --since) reads stored events"))] = 35
    warmup_days: Annotated[int, Field(ge=1, description=(
        "Active days an entity needs before it is judged against its own normal (before: only against peers)"
    ))] = 5
    warmup_hours: Annotated[int, Field(ge=1)] = 24
    min_peers: Annotated[int, Field(ge=1)] = 3
    hour_ratio: Annotated[float, Field(gt=1)] = 4.0
    hour_z: Annotated[float, Field(gt=0)] = 6.0
    day_ratio: Annotated[float, Field(gt=1)] = 3.0
    day_z: Annotated[float, Field(gt=0)] = 5.0
    peer_ratio: Annotated[float, Field(gt=1)] = 3.0
    sequential_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    outside_share: Annotated[float, Field(gt=0, le=1)] = 0.3
    off_hours_min_actions: Annotated[int, Field(ge=1)] = 20
    off_hours_min_new: Annotated[int, Field(ge=1, description=(
        "Actions off the usual hours that alert when they come from a network or device the account never "
        "used"))] = 3
    seasonal_ratio: Annotated[float, Field(gt=0, description=(
        "An hour must also exceed by this factor the largest value the entity had around the same hour of the "
        "week in the last weeks (a weekly report is not a burst)"))] = 2.0
    day_scope_min: Annotated[int, Field(ge=1, description=(
        "Records of other units or never-handled procedures in a day worth an alert"))] = 8
    drift_reference_days: Annotated[int, Field(ge=3, description=(
        "Active days before a run of busy days that its level is measured on"))] = 8
    drift_max_days: Annotated[int, Field(ge=2, le=27)] = 10
    drift_z: Annotated[float, Field(gt=0)] = 4.0
    drift_days_worth: Annotated[float, Field(gt=0, description=(
        "A drift alerts only once its extra records add up to this many normal days"))] = 2.0
    drift_min_excess: Annotated[int, Field(ge=1, description="…and to at least this many records")] = 30
    crowd_size: Annotated[int, Field(ge=2, description=(
        "Officials of the same role doing as much on the same day that make a volume collective work "
        "(a month-end report), not one account's leak"))] = 3
    multivariate: bool = True
    max_entities_per_agency: Annotated[int, Field(ge=1, description=(
        "Officials and API clients followed per agency; names past it (e.g. invented by an attacker) are not"
    ))] = 20_000
    min_volumes: dict[str, int] = Field(default_factory=dict, description=(
        "Per-feature overrides of the smallest hourly value worth an alert"))
    personal_data: bool = Field(True, description=(
        "Incidents these alerts open may involve citizens' personal data (72 h breach-notice clock)"))

    def min_volume(self, feature: str) -> float:
        return float(self.min_volumes.get(feature, BEHAVIOUR_MIN_VOLUME.get(feature, 1)))

    def day_min_volume(self, feature: str) -> float:
        return 2 * self.min_volume(feature)


class CorrelationSettings(StrictModel):
    allowed_lateness_seconds: Annotated[int, Field(ge=0, le=86_400, description=(
        "How far behind the newest event an event may arrive and still be counted in its windows; "
        "later ones are counted as late and left out"))] = 120
    checkpoint: Annotated[bool, Field(description="Keep window state in the store so a restart neither "
                                                  "re-fires nor misses")] = True


class IndicatorList(StrictModel):
    """A file of indicators (IP addresses and networks, domains, URLs) matched against every event."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
    path: str
    format: Literal["auto", "text", "csv", "stix"] = Field(
        "auto", description="auto: by suffix (.csv, .json = STIX 2.1 bundle, anything else plain text)")
    severity: Severity = Severity.high
    tags: list[str] = Field(default_factory=lambda: ["attack.command_and_control"])
    title_vi: str | None = Field(None, description="Vietnamese title of the alerts (default: built from the name)")


class DetectionSettings(StrictModel):
    builtin_rules: bool = True
    rule_dirs: list[str] = Field(default_factory=list)
    reload_seconds: Annotated[float, Field(ge=0, description=(
        "How often rule folders and indicator files are checked for changes (0: never, restart to reload)"))] = 2.0
    placeholders: dict[str, list[str]] = Field(
        default_factory=dict, description="Values of Sigma %placeholders% used with the expand modifier")
    indicators: list[IndicatorList] = Field(default_factory=list)
    correlation: CorrelationSettings = CorrelationSettings()
    anomaly: AnomalySettings = AnomalySettings()
    behaviour: BehaviourSettings = BehaviourSettings()
