"""Configuration of the detectors (the ``detection:`` block)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from canhgac.config_base import StrictModel


class AnomalySettings(StrictModel):
    enabled: bool = True
    interval_seconds: Annotated[int, Field(ge=5)] = 300
    window_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    history_windows: Annotated[int, Field(ge=8)] = 288
    min_windows: Annotated[int, Field(ge=8)] = 24
    contamination: Annotated[float, Field(gt=0, le=0.5)] = 0.02


class DetectionSettings(StrictModel):
    builtin_rules: bool = True
    rule_dirs: list[str] = Field(default_factory=list)
    anomaly: AnomalySettings = AnomalySettings()
