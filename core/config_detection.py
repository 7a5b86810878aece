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
