"""Daily and weekly monitoring reports per agency subtree (as Circular 31/2017/TT-BTTTT asks of monitoring
units): what was attacked, how, from where, and what became of the incidents."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from canhgac.core.directory import Directory
from canhgac.core.model import Alert, Severity
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.grouping import attack_from_tags
from canhgac.incidents.models import closed_at
from canhgac.incidents.posture import Count, iter_incidents
from canhgac.storage.base import AlertCursor, AlertQuery, IncidentQuery, Store
from pydantic import BaseModel

Period = Literal["daily", "weekly"]
MAX_ALERTS = 50_000
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


def _alerts(store: Store, scope: frozenset[str] | None, start: datetime, end: datetime) -> tuple[list[Alert], bool]:
    query = AlertQuery(agencies=scope, start=start, end=end, limit=1000)
    out: list[Alert] = []
    while len(out) < MAX_ALERTS:
        page = store.search_alerts(query)
        out += page
        if len(page) < query.limit:
            return out, False
        query = replace(query, after=AlertCursor.of(page[-1]))
    return out, True


def _top(counter: Counter[str]) -> list[Count]:
    return [Count(key=k, count=n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]


def monitoring_report(store: Store, directory: Directory, scope: frozenset[str] | None, agency: str | None,
                      period: Period, day: date) -> MonitoringReport:
    start, end = period_bounds(period, day)
    alerts, truncated = _alerts(store, scope, start, end)
    targets: Counter[str] = Counter()
    techniques: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    for alert in alerts:
        rules[alert.rule_title] += alert.count
        if alert.entities.get("source.ip"):
            sources[alert.entities["source.ip"]] += alert.count
        system = directory.systems.get(alert.system) if alert.system else None
        targets[system.name if system else alert.agency] += alert.count
        for technique in attack_from_tags(alert.tags)[1]:
            techniques[technique] += alert.count
    incidents = list(iter_incidents(store, IncidentQuery(agencies=scope, start=start, limit=1000)))

    def line(i: object) -> IncidentLine:
        return IncidentLine.model_validate(i, from_attributes=True)

    opened = [line(i) for i in incidents if start <= i.detected < end]
    closed = [line(i) for i in incidents if (c := closed_at(i)) is not None and start <= c < end]
    named = directory.agencies.get(agency) if agency else None
    return MonitoringReport(
        agency=agency, agency_name=named.name_vi if named else "Tất cả cơ quan, đơn vị", period=period,
        start=start, end=end, alerts_total=sum(a.count for a in alerts),
        alerts_by_severity={s: sum(a.count for a in alerts if a.severity is s) for s in Severity},
        truncated=truncated, targets=_top(targets), techniques=_top(techniques),
        rules=_top(rules), sources=_top(sources),
        incidents_opened=opened, incidents_closed=closed)
