"""Daily and weekly monitoring reports per agency subtree (as Circular 31/2017/TT-BTTTT asks of monitoring
units): what was attacked, how, from where, and what became of the incidents.

The alert figures are aggregations in the store (``Store.sum_alerts_by``: a handful of ``size: 0`` requests on
Elasticsearch, GROUP BY on SQLite), so a busy week costs the same as a quiet one; only the incidents opened or
closed in the period are read, as the report lists them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from canhgac.core.directory import Directory
from canhgac.core.model import Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.grouping import attack_from_tags
from canhgac.incidents.models import closed_at
from canhgac.incidents.posture import Count, iter_incidents
from canhgac.storage.base import AlertQuery, IncidentQuery, Store
from pydantic import BaseModel

Period = Literal["daily", "weekly"]
TOP = 10


class IncidentLine(BaseModel):
    id: str
    title: str
    severity: Severity
    state: str
    agency: str


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
    incidents_opened: list[IncidentLine]
    incidents_closed: list[IncidentLine]


def period_bounds(period: Period, day: date) -> tuple[datetime, datetime]:
    """A local (Asia/Ho_Chi_Minh) day, or the Monday-to-Sunday week holding ``day``."""
    first = day if period == "daily" else day - timedelta(days=day.weekday())
    start = datetime.combine(first, time(), VIETNAM).astimezone(UTC)
    return start, start + timedelta(days=1 if period == "daily" else 7)


def _sums(store: Store, query: AlertQuery, *fields: str) -> dict[tuple[str | None, ...], int]:
    return store.sum_alerts_by(query, fields)


def _top(counter: Counter[str]) -> list[Count]:
    return [Count(key=k, count=n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]


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
    incidents = list(iter_incidents(store, IncidentQuery(agencies=scope, start=start, limit=1000)))

    def line(i: object) -> IncidentLine:
        return IncidentLine.model_validate(i, from_attributes=True)

    opened = [line(i) for i in incidents if start <= i.detected < end]
    closed = [line(i) for i in incidents if (c := closed_at(i)) is not None and start <= c < end]
    named = directory.agencies.get(agency) if agency else None
    return MonitoringReport(
        agency=agency, agency_name=named.name_vi if named else "Tất cả cơ quan, đơn vị", period=period,
        start=start, end=end, alerts_total=sum(by_severity.values()),
        alerts_by_severity={s: by_severity[s.value] for s in Severity},
        truncated=False, targets=_top(targets), techniques=_top(techniques),
        rules=_top(rules), sources=_top(sources),
        incidents_opened=opened, incidents_closed=closed)
