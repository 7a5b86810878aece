"""The monitoring report's incident part as it was computed before ``Store.period_incidents``: read the
incidents, keep those whose detection (or closing) lies in the period, count and sort them in Python. The test
oracle of ``tests/storage/test_monitoring_aggregation_contract.py``.

One change from that code: it read only incidents with ``last_seen >= start``, which left out an incident closed
in the period after its last alert came before it; the oracle reads every incident of the scope."""

from __future__ import annotations

from datetime import date, datetime

from canhgac.core.directory import Directory
from canhgac.core.model import Incident
from canhgac.incidents.models import closed_at
from canhgac.incidents.monitoring import IncidentLine, Period, period_bounds
from canhgac.incidents.posture import iter_incidents
from canhgac.storage.base import AlertQuery, IncidentQuery, Store
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment


def moment_of(incident: Incident, moment: PeriodMoment) -> datetime | None:
    return incident.detected if moment == "detected" else closed_at(incident)


def period_incidents(store: Store, scope: frozenset[str] | None, moment: PeriodMoment, start: datetime,
                     end: datetime, limit: int) -> PeriodIncidents:
    chosen = [i for i in iter_incidents(store, IncidentQuery(agencies=scope, limit=1000))
              if (m := moment_of(i, moment)) is not None and start <= m < end]
    out = PeriodIncidents(total=len(chosen))
    for incident in chosen:
        out.by_severity[incident.severity] += 1
        out.by_state[incident.state] += 1
        out.by_agency[incident.agency] = out.by_agency.get(incident.agency, 0) + 1
        for category in {c.value for c in incident.categories}:
            out.by_category[category] = out.by_category.get(category, 0) + 1
    out.top = sorted(chosen, key=lambda i: (-i.severity.rank, moment_of(i, moment), i.id))[:limit]
    return out


def former_report(store: Store, directory: Directory, scope: frozenset[str] | None, period: Period,
                  day: date) -> tuple[int, list[IncidentLine], list[IncidentLine]]:
    """The former report's work, for ``bench/monitoring.py``'s "before": the alert sums it made, then every
    incident active since the period's start read, and those detected or closed in it listed (all of them)."""
    start, end = period_bounds(period, day)
    query = AlertQuery(agencies=scope, start=start, end=end)
    alerts = 0
    for fields in (("severity",), ("rule_title",), ("entities.source.ip",), ("system", "agency"), ("tags",)):
        alerts += sum(store.sum_alerts_by(query, fields).values())
    incidents = list(iter_incidents(store, IncidentQuery(agencies=scope, start=start, limit=1000)))

    def line(i: Incident) -> IncidentLine:
        return IncidentLine.model_validate(i, from_attributes=True)

    opened = [line(i) for i in incidents if start <= i.detected < end]
    closed = [line(i) for i in incidents if (c := closed_at(i)) is not None and start <= c < end]
    return alerts, opened, closed
