"""Clocks: SLA per severity and the legal deadlines, all counted from detection, all from configuration.

A clock is overdue from the very moment it is due (``now >= due``) until what it waits for is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from canhgac.core.config import Settings
from canhgac.core.model import FilingKind, Incident, IncidentCategory
from canhgac.incidents.models import acknowledged_at, closed_at


class ClockKind(StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"
    incident_notice = "incident_notice"
    breach_notice = "breach_notice"
    serious_initial_report = "serious_initial_report"


LEGAL_KINDS = frozenset({ClockKind.incident_notice, ClockKind.breach_notice, ClockKind.serious_initial_report})


class ClockStatus(StrEnum):
    pending = "pending"
    overdue = "overdue"
    met = "met"
    late = "late"  # done, after the deadline


@dataclass(frozen=True)
class Clock:
    kind: ClockKind
    due: datetime
    done_at: datetime | None
    status: ClockStatus

    @property
    def overdue(self) -> bool:
        return self.status is ClockStatus.overdue

    @property
    def missed(self) -> bool:
        return self.status in (ClockStatus.overdue, ClockStatus.late)


def _clock(kind: ClockKind, due: datetime, done_at: datetime | None, now: datetime) -> Clock:
    if done_at is not None:
        status = ClockStatus.met if done_at < due else ClockStatus.late
    else:
        status = ClockStatus.overdue if now >= due else ClockStatus.pending
    return Clock(kind, due, done_at, status)


def _filed(incident: Incident, kind: FilingKind) -> datetime | None:
    times = [f.filed_at for f in incident.filings if f.kind is kind]
    return min(times) if times else None


def clocks(incident: Incident, settings: Settings, now: datetime, *, serious: bool) -> list[Clock]:
    """The clocks that apply to this incident now (a legal notice that is not required has no clock)."""
    detected = incident.detected
    sla = settings.incidents.sla_for(incident.severity)
    deadlines = settings.incidents.deadlines
    out = [_clock(ClockKind.acknowledge, detected + timedelta(minutes=sla.acknowledge_minutes),
                  acknowledged_at(incident), now),
           _clock(ClockKind.resolve, detected + timedelta(hours=sla.resolve_hours), closed_at(incident), now)]
    exempt = incident.resolution is not None and incident.resolution.value in deadlines.notice_exempt_resolutions
    if not exempt:
        out.append(_clock(ClockKind.incident_notice, detected + timedelta(hours=deadlines.incident_notice_hours),
                          _filed(incident, FilingKind.incident_notice), now))
    if IncidentCategory.personal_data_leak in incident.categories:
        out.append(_clock(ClockKind.breach_notice, detected + timedelta(hours=deadlines.breach_notice_hours),
                          _filed(incident, FilingKind.breach_notice), now))
    if serious:
        out.append(_clock(ClockKind.serious_initial_report,
                          detected + timedelta(hours=deadlines.serious_initial_report_hours),
                          _filed(incident, FilingKind.serious_initial_report), now))
    return out


def due_for_filing(incident: Incident, settings: Settings, kind: FilingKind) -> datetime:
    deadlines = settings.incidents.deadlines
    hours = {FilingKind.incident_notice: deadlines.incident_notice_hours,
             FilingKind.breach_notice: deadlines.breach_notice_hours,
             FilingKind.serious_initial_report: deadlines.serious_initial_report_hours}[kind]
    return incident.detected + timedelta(hours=hours)


def time_to_acknowledge(incident: Incident) -> timedelta | None:
    done = acknowledged_at(incident)
    return None if done is None else done - incident.detected


def time_to_resolve(incident: Incident) -> timedelta | None:
    done = closed_at(incident)
    return None if done is None else done - incident.detected
