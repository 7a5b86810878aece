"""The overview an analyst reads at a glance: counts by severity and state, the alert histogram stacked by
severity, top sources, rules and systems, and the legal deadlines already missed — for one scope and range.

Everything but the deadlines is a store aggregation (a COUNT/GROUP BY on SQLite, ``_count`` and aggregations on
Elasticsearch), so the cost does not grow with the number of incidents shown. Deadlines depend on filings and
on the serious-incident test, so the open incidents are read and their clocks computed (``clocks.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from canhgac.core.directory import Directory
from canhgac.core.model import OPEN_STATES, IncidentState, Severity
from canhgac.incidents.clocks import LEGAL_KINDS, ClockKind, clocks
from canhgac.incidents.posture import iter_incidents
from canhgac.incidents.serious import assess
from canhgac.storage.base import AlertQuery, IncidentQuery, Store
from pydantic import BaseModel, Field

TOP = 10
MAX_OVERDUE = 100
#: Open incidents read at most for the deadlines (the oldest are the likeliest to be overdue, read first).
MAX_OPEN_READ = 5000
#: Bucket widths the histogram may use, in seconds: each range gets the narrowest giving at most MAX_BUCKETS.
NICE_INTERVALS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
MAX_BUCKETS = 60
DEFAULT_RANGE = timedelta(hours=24)

#: Rule id → (title, Vietnamese title), from the loaded rules.
RuleTitles = Callable[[str], tuple[str, str | None]]


class SeverityCounts(BaseModel):
    low: int = 0
    medium: int = 0
    high: int = 0
    critical: int = 0


class IncidentCounts(BaseModel):
    total: int
    by_severity: SeverityCounts
    by_state: dict[IncidentState, int]


class HistogramBucket(SeverityCounts):
    start: datetime


class AlertCounts(BaseModel):
    total: int
    histogram: list[HistogramBucket]


class TopValue(BaseModel):
    value: str
    count: int


class TopRule(BaseModel):
    rule_id: str
    title: str
    title_vi: str | None
    count: int


class TopSystem(BaseModel):
    system: str
    name_vi: str
    name_en: str
    agency: str | None
    count: int


class OverdueDeadline(BaseModel):
    incident_id: str
    title: str
    title_en: str | None
    agency: str
    severity: Severity
    clock: ClockKind
    due: datetime
    overdue_hours: float


class Overview(BaseModel):
    since: datetime
    until: datetime
    interval_seconds: int = Field(description="Width of each histogram bucket")
    incidents: IncidentCounts = Field(description="Incidents last seen in the range")
    alerts: AlertCounts = Field(description="Alerts last seen in the range")
    top_sources: list[TopValue] = Field(description="Source addresses of the most alerts")
    top_rules: list[TopRule] = Field(description="Rules of the most alerts")
    top_systems: list[TopSystem] = Field(description="Systems of the most incidents")
    overdue: list[OverdueDeadline] = Field(description="Legal deadlines of open incidents already past, oldest "
                                                       "first (whatever the range)")


def histogram_interval(since: datetime, until: datetime) -> int:
    """The narrowest nice width that cuts the range into at most ``MAX_BUCKETS`` buckets."""
    span = max((until - since).total_seconds(), 1)
    for width in NICE_INTERVALS:
        if span / width <= MAX_BUCKETS:
            return width
    return math.ceil(span / MAX_BUCKETS / 86400) * 86400


def _histogram(store: Store, query: AlertQuery, since: datetime, until: datetime,
               width: int) -> list[HistogramBucket]:
    found = {int(b.start.timestamp()): b.counts for b in store.count_alerts_over_time_by_severity(query, width)}
    first = int(since.timestamp()) // width * width
    out = []
    for start in range(first, int(until.timestamp()), width):  # empty buckets too: a chart needs them
        counts = found.get(start, {})
        out.append(HistogramBucket(start=datetime.fromtimestamp(start, UTC),
                                   **{s.value: counts.get(s, 0) for s in Severity}))
    return out


def overdue_deadlines(store: Store, directory: Directory, scope: frozenset[str] | None,
                      now: datetime) -> list[OverdueDeadline]:
    """Legal clocks (incident notice, breach notice, serious-incident report) of open incidents past due."""
    settings = directory.settings
    query = IncidentQuery(agencies=scope, states=frozenset(OPEN_STATES), sort="first_seen", descending=False,
                          limit=500)
    out: list[OverdueDeadline] = []
    for read, incident in enumerate(iter_incidents(store, query)):
        if read >= MAX_OPEN_READ:
            break
        if incident.merged_into is not None:
            continue
        serious = assess(incident, directory, settings).serious
        for clock in clocks(incident, settings, now, serious=serious):
            if clock.kind in LEGAL_KINDS and clock.overdue:
                out.append(OverdueDeadline(
                    incident_id=incident.id, title=incident.title, title_en=incident.title_en, agency=incident.agency,
                    severity=incident.severity, clock=clock.kind, due=clock.due,
                    overdue_hours=round((now - clock.due).total_seconds() / 3600, 1)))
    return sorted(out, key=lambda o: (o.due, o.incident_id))[:MAX_OVERDUE]


def overview(store: Store, directory: Directory, *, scope: frozenset[str] | None, since: datetime,
             until: datetime, now: datetime, rule_titles: RuleTitles) -> Overview:
    incidents = IncidentQuery(agencies=scope, start=since, end=until)
    alerts = AlertQuery(agencies=scope, start=since, end=until)
    by_severity = store.count_incidents_by(incidents, "severity", size=len(Severity))
    by_state = store.count_incidents_by(incidents, "state", size=len(IncidentState))
    width = histogram_interval(since, until)
    histogram = _histogram(store, alerts, since, until, width)
    top_rules = []
    for rule_id, count in store.count_alerts_by(alerts, "rule_id", TOP).items():
        title, title_vi = rule_titles(rule_id)
        top_rules.append(TopRule(rule_id=rule_id, title=title, title_vi=title_vi, count=count))
    top_systems = []
    for system_id, count in store.count_incidents_by(incidents, "system", TOP).items():
        system = directory.systems.get(system_id)
        name = system.name if system is not None else system_id
        top_systems.append(TopSystem(system=system_id, name_vi=name, name_en=name,
                                     agency=system.agency if system is not None else None, count=count))
    return Overview(
        since=since, until=until, interval_seconds=width,
        incidents=IncidentCounts(total=sum(by_state.values()), by_severity=SeverityCounts(**by_severity),
                                 by_state={s: by_state.get(s.value, 0) for s in IncidentState}),
        alerts=AlertCounts(total=sum(b.low + b.medium + b.high + b.critical for b in histogram),
                           histogram=histogram),
        top_sources=[TopValue(value=v, count=n)
                     for v, n in store.count_alerts_by(alerts, "entities.source.ip", TOP).items()],
        top_rules=top_rules, top_systems=top_systems, overdue=overdue_deadlines(store, directory, scope, now))
