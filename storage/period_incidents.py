"""Incidents detected or closed in one period, as the monitoring report needs them: counted by the store over
the stored incident facts (``incident_facts``), and the most important few read as one bounded page
(docs/decisions/0046-posture-by-aggregation.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from canhgac.core.model import Incident, IncidentState, Severity
from canhgac.storage.incident_facts import detected_from

#: ``detected``: the incident's detection time lies in the period; ``closed``: the time it last entered resolved or
#: closed (and is still there) does.
PeriodMoment = Literal["detected", "closed"]


@dataclass
class PeriodIncidents:
    """Every incident of the period counted (merged ones too, as the report always counted them); an incident
    with several categories counts under each. ``top``: at most ``limit`` of them, highest severity first, then
    the earliest in the period, then by id."""

    total: int = 0
    by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    by_state: dict[IncidentState, int] = field(default_factory=lambda: dict.fromkeys(IncidentState, 0))
    by_category: dict[str, int] = field(default_factory=dict)
    by_agency: dict[str, int] = field(default_factory=dict)
    top: list[Incident] = field(default_factory=list)


def period_ms(start: datetime, end: datetime) -> tuple[int, int]:
    """``start <= moment < end`` ⇔ ``low <= fact < high`` on the stored epoch-ms facts (stored moments are whole ms)."""
    return detected_from(start), detected_from(end)
