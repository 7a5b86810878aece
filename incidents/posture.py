"""Security posture (tình trạng an toàn thông tin) of an agency subtree, and a ranking of agencies of one level.

Score (0–100, higher is better), documented in docs/decisions/0024-posture-score.md:
    100 − min(40, Σ open incidents' weights: low 1, medium 3, high 6, critical 10)
        − min(30, 10 × overdue legal deadlines + 2 × overdue SLA clocks)
        − 20 × (1 − SLA compliance over the period)
        − min(10, 5 × open serious incidents)
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from canhgac.core.config import AgencyLevel
from canhgac.core.directory import Directory
from canhgac.core.model import OPEN_STATES, Incident, IncidentState, Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.clocks import LEGAL_KINDS, Clock, ClockKind, clocks, time_to_acknowledge, time_to_resolve
from canhgac.incidents.models import closed_at
from canhgac.incidents.serious import assess
from canhgac.storage.base import IncidentCursor, IncidentQuery, Store
from pydantic import BaseModel, Field

WEIGHTS = {Severity.low: 1, Severity.medium: 3, Severity.high: 6, Severity.critical: 10}
PAGE = 1000
MAX_INCIDENTS = 100_000
TOP = 5


class Count(BaseModel):
    key: str
    count: int


class DayCount(BaseModel):
    day: date
    opened: int
    closed: int


class OverdueItem(BaseModel):
    incident_id: str
    agency: str
    kind: ClockKind
    due: datetime


class WeekStats(BaseModel):
    week_start: date
    opened: int = Field(description="Incidents detected in the week")
    open_at_end: int = Field(description="Incidents detected by the week's end and not resolved or closed then")
    mtta_minutes: float | None = Field(description="Mean time to acknowledge of the week's incidents")
    mttr_hours: float | None = Field(description="Mean time to resolve of the week's incidents")


class ScoreParts(BaseModel):
    open_incidents: float
    overdue: float
    sla: float
    serious: float


class Posture(BaseModel):
    agency: str | None
    period_start: datetime
    period_end: datetime
    open_total: int
    open_by_severity: dict[Severity, int]
    open_by_state: dict[IncidentState, int]
    serious_open: int
    trend: list[DayCount]
    mtta_seconds: float | None
    mttr_seconds: float | None
    sla_met: int
    sla_missed: int
    sla_compliance: float | None
    top_systems: list[Count]
    top_rules: list[Count]
    overdue: list[OverdueItem]
    score: float
    score_parts: ScoreParts
    weeks: list[WeekStats] = Field(default_factory=list, description="Week by week (Monday first, Vietnam time)")


class RankEntry(BaseModel):
    rank: int
    agency: str
    name_vi: str
    name_en: str
    score: float
    open_total: int
    serious_open: int
    overdue: int
    sla_compliance: float | None


class Ranking(BaseModel):
    level: AgencyLevel
    period_start: datetime
    period_end: datetime
    total: int
    entries: list[RankEntry]


@dataclass(frozen=True)
class Assessed:
    incident: Incident
    clocks: list[Clock]
    serious: bool


def iter_incidents(store: Store, query: IncidentQuery) -> Iterator[Incident]:
    seen = 0
    while seen < MAX_INCIDENTS:
        page = store.search_incidents(query)
        yield from page
        seen += len(page)
        if len(page) < query.limit:
            return
        query = replace(query, after=IncidentCursor.of(page[-1], query.sort))


def load(store: Store, directory: Directory, scope: frozenset[str] | None, since: datetime,
         now: datetime) -> list[Assessed]:
    """Open incidents, and every incident active since ``since``, each assessed once."""
    found: dict[str, Incident] = {}
    for query in (IncidentQuery(agencies=scope, states=frozenset(OPEN_STATES), limit=PAGE),
                  IncidentQuery(agencies=scope, start=since, limit=PAGE)):
        for incident in iter_incidents(store, query):
            if incident.merged_into is None:
                found[incident.id] = incident
    settings = directory.settings
    out = []
    for incident in found.values():
        serious = assess(incident, directory, settings).serious
        out.append(Assessed(incident, clocks(incident, settings, now, serious=serious), serious))
    return out


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


class RankingCache:
    """Rankings by level and period, each computed at most once per ``lifetime`` of the service's clock.

    A ranking reads and assesses every incident of the period and any signed-in caller may ask for it, so
    it is not recomputed per request; a change shows within ``lifetime``. One ranking is computed at a time:
    callers asking meanwhile wait for it instead of each starting their own.
    """

    def __init__(self, lifetime: timedelta = timedelta(seconds=60), size: int = 16) -> None:
        self.lifetime = lifetime
        self.size = size
        self._entries: OrderedDict[tuple[AgencyLevel, int], tuple[datetime, Ranking]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, level: AgencyLevel, days: int, now: datetime, compute: Callable[[], Ranking]) -> Ranking:
        key = (level, days)
        with self._lock:
            found = self._entries.get(key)
            if found is None or not timedelta(0) <= now - found[0] < self.lifetime:
                found = (now, compute())
                self._entries[key] = found
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return found[1].model_copy(deep=True)  # callers filter the entries of their copy


# weeks (the posture view's trend lines) ---------------------------------------------------------------------
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
