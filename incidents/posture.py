"""Security posture (tình trạng an toàn thông tin) of an agency subtree, and a ranking of agencies of one level.

Score (0–100, higher is better), documented in docs/decisions/0024-posture-score.md:
    100 − min(40, Σ open incidents' weights: low 1, medium 3, high 6, critical 10)
        − min(30, 10 × overdue legal deadlines + 2 × overdue SLA clocks)
        − 20 × (1 − SLA compliance over the period)
        − min(10, 5 × open serious incidents)

Computed by store aggregations over facts stored with every incident, the clocks' lengths and the serious test
given as filter bounds (docs/decisions/0046-posture-by-aggregation.md); ``load`` reads and assesses incidents,
for what must see each one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from canhgac.core.config import AgencyLevel
from canhgac.core.directory import Directory
from canhgac.core.model import OPEN_STATES, Incident, IncidentState, Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.clocks import LEGAL_KINDS, Clock, ClockKind, clocks
from canhgac.incidents.serious import assess
from canhgac.storage.base import IncidentCursor, IncidentQuery, Store
from canhgac.storage.incident_facts import PostureCounts, PostureRules
from pydantic import BaseModel, Field

WEIGHTS = {Severity.low: 1, Severity.medium: 3, Severity.high: 6, Severity.critical: 10}
PAGE = 1000
MAX_INCIDENTS = 100_000
MAX_OVERDUE_INCIDENTS = 100
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
    overdue_total: int = Field(0, description="Overdue clocks in all (the list may hold only the oldest)")
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


def rules_of(directory: Directory) -> PostureRules:
    """The clock lengths and the serious test of the configuration and the directory, as aggregation bounds."""
    incidents = directory.settings.incidents
    deadlines, test = incidents.deadlines, incidents.serious
    return PostureRules(
        acknowledge={s: timedelta(minutes=incidents.sla_for(s).acknowledge_minutes) for s in Severity},
        resolve={s: timedelta(hours=incidents.sla_for(s).resolve_hours) for s in Severity},
        incident_notice=timedelta(hours=deadlines.incident_notice_hours),
        breach_notice=timedelta(hours=deadlines.breach_notice_hours),
        serious_report=timedelta(hours=deadlines.serious_initial_report_hours),
        exempt_resolutions=frozenset(deadlines.notice_exempt_resolutions),
        serious_systems=frozenset(system_id for system_id, system in directory.systems.items()
                                  if system.security_level >= test.min_security_level),
        serious_categories=frozenset(c.value for c in test.categories))


def _compliance(counts: PostureCounts) -> float | None:
    judged = counts.sla_met + counts.sla_missed
    return counts.sla_met / judged if judged else None


def _score(counts: PostureCounts) -> tuple[ScoreParts, float]:
    legal = sum(counts.overdue[kind.value] for kind in LEGAL_KINDS)
    sla = sum(counts.overdue.values()) - legal
    compliance = _compliance(counts)
    parts = ScoreParts(
        open_incidents=min(40, sum(WEIGHTS[s] * n for s, n in counts.open_by_severity.items())),
        overdue=min(30, 10 * legal + 2 * sla),
        sla=round(20 * (1 - compliance), 2) if compliance is not None else 0.0,
        serious=min(10, 5 * counts.serious_open))
    return parts, round(max(0.0, 100 - parts.open_incidents - parts.overdue - parts.sla - parts.serious), 1)


def _counted(store: Store, scope: frozenset[str] | None, since: datetime, now: datetime,
             rules: PostureRules) -> PostureCounts:
    total = PostureCounts()
    for counts in store.posture_counts(scope, since=since, now=now, rules=rules).values():
        total.add(counts)
    return total


def overdue_items(incidents: Iterable[Incident], directory: Directory, now: datetime) -> list[OverdueItem]:
    settings = directory.settings
    items = [OverdueItem(incident_id=i.id, agency=i.agency, kind=c.kind, due=c.due) for i in incidents
             for c in clocks(i, settings, now, serious=assess(i, directory, settings).serious) if c.overdue]
    return sorted(items, key=lambda o: o.due)


def posture(store: Store, directory: Directory, scope: frozenset[str] | None, *, agency: str | None,
            since: datetime, now: datetime, overdue_limit: int = MAX_OVERDUE_INCIDENTS) -> Posture:
    """The posture of ``scope`` from store aggregations; only incidents with an overdue clock are read, to list
    them (the ``overdue_limit`` detected first; ``overdue_total`` counts every overdue clock)."""
    rules = rules_of(directory)
    counts = _counted(store, scope, since, now, rules)
    parts, score = _score(counts)
    compliance = _compliance(counts)
    lists = store.posture_breakdown(scope, since=since, now=now, top=TOP)
    overdue = overdue_items(store.overdue_incidents(scope, since=since, now=now, rules=rules,
                                                    limit=overdue_limit), directory, now)
    first, last = since.astimezone(VIETNAM).date(), now.astimezone(VIETNAM).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return Posture(
        agency=agency, period_start=since, period_end=now, open_total=sum(counts.open_by_state.values()),
        open_by_severity=counts.open_by_severity, open_by_state=counts.open_by_state,
        serious_open=counts.serious_open,
        trend=[DayCount(day=d, opened=lists.opened_by_day.get(d, 0), closed=lists.closed_by_day.get(d, 0))
               for d in days],
        mtta_seconds=counts.ack_total_ms / counts.ack_count / 1000 if counts.ack_count else None,
        mttr_seconds=counts.resolve_total_ms / counts.resolve_count / 1000 if counts.resolve_count else None,
        sla_met=counts.sla_met, sla_missed=counts.sla_missed,
        sla_compliance=round(compliance, 4) if compliance is not None else None,
        top_systems=_counts(lists.systems), top_rules=_counts(lists.rules), overdue=overdue,
        overdue_total=sum(counts.overdue.values()), score=score, score_parts=parts)


def _counts(values: dict[str, int]) -> list[Count]:
    return [Count(key=k, count=n) for k, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]


def ranking(store: Store, directory: Directory, level: AgencyLevel, *, since: datetime, now: datetime) -> Ranking:
    """Every current agency of ``level``, best score first, from one aggregation per agency of the store; a
    dissolved unit's incidents count for its successor."""
    ranked = [a for a in directory.agencies.values() if a.level is level and a.is_current]
    groups = {a.id: PostureCounts() for a in ranked}
    for agency_id, counts in store.posture_counts(None, since=since, now=now, rules=rules_of(directory)).items():
        owner = directory.owner_at(agency_id, level) if agency_id in directory.agencies else None
        if owner in groups:
            groups[owner].add(counts)
    scored = [(_score(groups[a.id])[1], groups[a.id], a) for a in ranked]
    scored.sort(key=lambda sca: (-sca[0], sum(sca[1].open_by_state.values()), sca[2].id))
    entries = []
    for n, (score, counts, a) in enumerate(scored, start=1):
        compliance = _compliance(counts)
        entries.append(RankEntry(rank=n, agency=a.id, name_vi=a.name_vi, name_en=a.name_en, score=score,
                                 open_total=sum(counts.open_by_state.values()), serious_open=counts.serious_open,
                                 overdue=sum(counts.overdue.values()),
                                 sla_compliance=round(compliance, 4) if compliance is not None else None))
    return Ranking(level=level, period_start=since, period_end=now, total=len(entries), entries=entries)


class RankingCache:
    """Rankings by level and period, each computed at most once per ``lifetime`` of the service's clock.

    A ranking aggregates every incident of the period and any signed-in caller may ask for it, so it is not
    recomputed per request; a change shows within ``lifetime``. One ranking is computed at a time:
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
def weeks(store: Store, scope: frozenset[str] | None, since: datetime, now: datetime) -> list[WeekStats]:
    """Opened, open at the week's end, MTTA and MTTR per week from the Monday of ``since``'s week to now."""
    out = []
    for week in store.posture_weeks(scope, since=since, now=now):
        mtta = week.ack_total_ms / week.ack_count / 1000 if week.ack_count else None
        mttr = week.resolve_total_ms / week.resolve_count / 1000 if week.resolve_count else None
        out.append(WeekStats(week_start=week.start, opened=week.opened, open_at_end=week.open_at_end,
                             mtta_minutes=round(mtta / 60, 1) if mtta is not None else None,
                             mttr_hours=round(mttr / 3600, 2) if mttr is not None else None))
    return out
