"""Daily and weekly monitoring reports per agency subtree (as Circular 31/2017/TT-BTTTT asks of monitoring
units): what was attacked, how, from where, and what became of the incidents.

Every figure is an aggregation in the store, so a busy week costs the same as a quiet one: the alerts by
``Store.sum_alerts_by`` (decision 0036), the incidents detected or closed in the period by
``Store.period_incidents`` over the stored incident facts (decision 0046); only the ``LISTED`` most important of
each are read, and the report says how many more there were."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from canhgac.core.directory import Directory
from canhgac.core.model import IncidentState, Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.grouping import attack_from_tags
from canhgac.incidents.posture import Count
from canhgac.storage.base import AlertQuery, Store
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment
from pydantic import BaseModel, Field

Period = Literal["daily", "weekly"]
TOP = 10
#: Incidents listed per list (opened, closed): the most important, highest severity first, then the earliest.
LISTED = 50
MOMENTS: tuple[PeriodMoment, ...] = ("detected", "closed")


class IncidentLine(BaseModel):
    id: str
    title: str
    severity: Severity
    state: str
    agency: str


class IncidentFigures(BaseModel):
    """The incidents detected (or closed) in the period, all counted; ``listed`` of them in the report's list."""

    total: int
    by_severity: dict[Severity, int]
    by_state: dict[IncidentState, int]
    by_category: list[Count] = Field(description="Per category (an incident with several counts under each)")
    by_agency: list[Count] = Field(description=f"The {TOP} agencies with the most, by Vietnamese name")
    listed: int
    more: int = Field(description="How many are not listed: the report says \"và N sự cố khác\"")
    truncated: bool


class MonitoringReport(BaseModel):
    form: str = "Báo cáo giám sát an toàn thông tin — Thông tư 31/2017/TT-BTTTT"
    agency: str | None
    agency_name: str
    period: Period
    start: datetime
    end: datetime
    alerts_total: int
    alerts_by_severity: dict[Severity, int]
    truncated: bool
    targets: list[Count]
    techniques: list[Count]
    rules: list[Count]
    sources: list[Count]
    incidents_opened: list[IncidentLine] = Field(description=f"At most {LISTED}: highest severity, then earliest")
    incidents_closed: list[IncidentLine] = Field(description=f"At most {LISTED}: highest severity, then earliest")
    opened: IncidentFigures
    closed: IncidentFigures


def period_bounds(period: Period, day: date) -> tuple[datetime, datetime]:
    """A local (Asia/Ho_Chi_Minh) day, or the Monday-to-Sunday week holding ``day``."""
    first = day if period == "daily" else day - timedelta(days=day.weekday())
    start = datetime.combine(first, time(), VIETNAM).astimezone(UTC)
    return start, start + timedelta(days=1 if period == "daily" else 7)


def _sums(store: Store, query: AlertQuery, *fields: str) -> dict[tuple[str | None, ...], int]:
    return store.sum_alerts_by(query, fields)


def _top(counter: Counter[str], size: int = TOP) -> list[Count]:
    return [Count(key=k, count=n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:size]]


def _lines(found: PeriodIncidents) -> list[IncidentLine]:
    return [IncidentLine.model_validate(i, from_attributes=True) for i in found.top]


def _figures(found: PeriodIncidents, directory: Directory) -> IncidentFigures:
    agencies: Counter[str] = Counter()
    for agency_id, n in found.by_agency.items():
        named = directory.agencies.get(agency_id)
        agencies[named.name_vi if named else agency_id] += n
    return IncidentFigures(total=found.total, by_severity=found.by_severity, by_state=found.by_state,
                           by_category=_top(Counter(found.by_category), size=len(found.by_category)),
                           by_agency=_top(agencies), listed=len(found.top), more=found.total - len(found.top),
                           truncated=found.total > len(found.top))


def monitoring_report(store: Store, directory: Directory, scope: frozenset[str] | None, agency: str | None,
                      period: Period, day: date) -> MonitoringReport:
    start, end = period_bounds(period, day)
    query = AlertQuery(agencies=scope, start=start, end=end)
    by_severity: Counter[str] = Counter()
    for (severity,), n in _sums(store, query, "severity").items():
        by_severity[severity or ""] += n
    rules: Counter[str] = Counter({title: n for (title,), n in _sums(store, query, "rule_title").items() if title})
    sources: Counter[str] = Counter({ip: n for (ip,), n in _sums(store, query, "entities.source.ip").items() if ip})
    targets: Counter[str] = Counter()
    for (system_id, agency_id), n in _sums(store, query, "system", "agency").items():
        system = directory.systems.get(system_id) if system_id else None
        targets[system.name if system else str(agency_id)] += n
    techniques: Counter[str] = Counter()
    for (tag,), n in _sums(store, query, "tags").items():
        for technique in attack_from_tags([tag] if tag else [])[1]:
            techniques[technique] += n
    found = {moment: store.period_incidents(scope, moment=moment, start=start, end=end, limit=LISTED)
             for moment in MOMENTS}
    named = directory.agencies.get(agency) if agency else None
    return MonitoringReport(
        agency=agency, agency_name=named.name_vi if named else "Tất cả cơ quan, đơn vị", period=period,
        start=start, end=end, alerts_total=sum(by_severity.values()),
        alerts_by_severity={s: by_severity[s.value] for s in Severity},
        truncated=False, targets=_top(targets), techniques=_top(techniques),
        rules=_top(rules), sources=_top(sources),
        incidents_opened=_lines(found["detected"]), incidents_closed=_lines(found["closed"]),
        opened=_figures(found["detected"], directory), closed=_figures(found["closed"], directory))
