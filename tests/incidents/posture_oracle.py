"""The posture and ranking as computed before decision 0046: by reading and assessing every incident of the
period (``posture.load``). Kept as the oracle the store aggregations are compared with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from canhgac.core.config import AgencyLevel
from canhgac.core.directory import Directory
from canhgac.core.model import OPEN_STATES, Incident, IncidentState, Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.clocks import LEGAL_KINDS, ClockKind, time_to_acknowledge, time_to_resolve
from canhgac.incidents.models import closed_at
from canhgac.incidents.posture import (
    TOP,
    WEIGHTS,
    Assessed,
    Count,
    DayCount,
    OverdueItem,
    Posture,
    RankEntry,
    Ranking,
    ScoreParts,
    WeekStats,
)


def _mean(values: Iterable[timedelta | None]) -> float | None:
    seconds = [v.total_seconds() for v in values if v is not None]
    return sum(seconds) / len(seconds) if seconds else None


def posture(items: list[Assessed], *, agency: str | None, since: datetime, now: datetime) -> Posture:
    open_items = [a for a in items if a.incident.state.is_open]
    recent = [a for a in items if a.incident.detected >= since]
    sla = [c for a in recent for c in a.clocks if c.kind in (ClockKind.acknowledge, ClockKind.resolve)]
    met = sum(1 for c in sla if c.status.value == "met")
    missed = sum(1 for c in sla if c.missed)
    compliance = met / (met + missed) if met + missed else None
    overdue = [OverdueItem(incident_id=a.incident.id, agency=a.incident.agency, kind=c.kind, due=c.due)
               for a in items for c in a.clocks if c.overdue]
    legal_overdue = sum(1 for o in overdue if o.kind in LEGAL_KINDS)
    serious_open = sum(1 for a in open_items if a.serious)
    parts = ScoreParts(
        open_incidents=min(40, sum(WEIGHTS[a.incident.severity] for a in open_items)),
        overdue=min(30, 10 * legal_overdue + 2 * (len(overdue) - legal_overdue)),
        sla=round(20 * (1 - compliance), 2) if compliance is not None else 0.0,
        serious=min(10, 5 * serious_open))
    score = round(max(0.0, 100 - parts.open_incidents - parts.overdue - parts.sla - parts.serious), 1)
    return Posture(
        agency=agency, period_start=since, period_end=now, open_total=len(open_items),
        open_by_severity={s: sum(1 for a in open_items if a.incident.severity is s) for s in Severity},
        open_by_state={s: sum(1 for a in open_items if a.incident.state is s) for s in OPEN_STATES},
        serious_open=serious_open, trend=_trend(items, since, now),
        mtta_seconds=_mean(time_to_acknowledge(a.incident) for a in recent),
        mttr_seconds=_mean(time_to_resolve(a.incident) for a in recent),
        sla_met=met, sla_missed=missed, sla_compliance=round(compliance, 4) if compliance is not None else None,
        top_systems=_top(a.incident.system for a in recent if a.incident.system),
        top_rules=_top(a.incident.rule_id for a in recent), overdue=sorted(overdue, key=lambda o: o.due),
        score=score, score_parts=parts)


def _top(values: Iterable[str | None]) -> list[Count]:
    counts = Counter(v for v in values if v)
    return [Count(key=k, count=n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]


def _trend(items: list[Assessed], since: datetime, now: datetime) -> list[DayCount]:
    first, last = since.astimezone(VIETNAM).date(), now.astimezone(VIETNAM).date()
    opened = Counter(a.incident.detected.astimezone(VIETNAM).date() for a in items)
    closed = Counter(when.astimezone(VIETNAM).date() for a in items if (when := closed_at(a.incident)) is not None)
    days = (last - first).days + 1
    return [DayCount(day=d, opened=opened[d], closed=closed[d])
            for d in (first + timedelta(days=n) for n in range(days))]


def ranking(items: list[Assessed], directory: Directory, level: AgencyLevel, *, since: datetime,
            now: datetime) -> Ranking:
    """Every current agency of ``level``, best score first; a dissolved unit's incidents count for its successor."""
    ranked = [a for a in directory.agencies.values() if a.level is level and a.is_current]
    owner = {agency_id: directory.owner_at(agency_id, level) for agency_id in directory.agencies}
    groups: dict[str, list[Assessed]] = {a.id: [] for a in ranked}
    for item in items:
        key = owner.get(item.incident.agency)
        if key is not None:
            groups[key].append(item)
    scored = [(posture(groups[a.id], agency=a.id, since=since, now=now), a) for a in ranked]
    scored.sort(key=lambda pa: (-pa[0].score, pa[0].open_total, pa[1].id))
    entries = [RankEntry(rank=n, agency=a.id, name_vi=a.name_vi, name_en=a.name_en, score=p.score,
                         open_total=p.open_total, serious_open=p.serious_open, overdue=len(p.overdue),
                         sla_compliance=p.sla_compliance) for n, (p, a) in enumerate(scored, start=1)]
    return Ranking(level=level, period_start=since, period_end=now, total=len(entries), entries=entries)


def _open_at(incident: Incident, moment: datetime) -> bool:
    """Whether the incident existed and was neither resolved nor closed at ``moment`` (from its history)."""
    if incident.detected >= moment:
        return False
    state = IncidentState.new
    for change in incident.history:
        if change.at >= moment:
            break
        state = change.to_state
    return state.is_open


def weeks(items: list[Assessed], since: datetime, now: datetime) -> list[WeekStats]:
    """Opened, open at the week's end, MTTA and MTTR per week from the Monday of ``since``'s week to now."""
    first = since.astimezone(VIETNAM).date()
    first -= timedelta(days=first.weekday())
    last = now.astimezone(VIETNAM).date()
    out = []
    start = first
    while start <= last:
        begin = datetime.combine(start, datetime.min.time(), VIETNAM)
        end = begin + timedelta(days=7)
        opened = [a.incident for a in items if begin <= a.incident.detected < end]
        mtta, mttr = _mean(time_to_acknowledge(i) for i in opened), _mean(time_to_resolve(i) for i in opened)
        out.append(WeekStats(week_start=start, opened=len(opened),
                             open_at_end=sum(1 for a in items if _open_at(a.incident, min(end, now))),
                             mtta_minutes=round(mtta / 60, 1) if mtta is not None else None,
                             mttr_hours=round(mttr / 3600, 2) if mttr is not None else None))
        start += timedelta(days=7)
    return out
