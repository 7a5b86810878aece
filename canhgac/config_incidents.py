"""Configuration of incident handling (the ``incidents:`` block): grouping, clocks, legal deadlines."""

from __future__ import annotations

from canhgac.config_base import StrictModel


class IncidentSettings(StrictModel):
    pass
