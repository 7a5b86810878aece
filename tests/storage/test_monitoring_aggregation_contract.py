"""The monitoring report's incidents from store aggregations (``Store.period_incidents``, decision 0046), on
both stores: the same counts and the same first incidents as reading every incident
(``tests/incidents/monitoring_oracle.py``), for Vietnam days and weeks with incidents detected or closed on
their edges, several scopes and page sizes; the report built on them; and, on Elasticsearch, as many requests
for 20 incidents as for 180."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from canhgac.core.directory import Directory
from canhgac.core.model import Incident, IncidentCategory, IncidentState, Severity, StateChange
from canhgac.incidents.monitoring import monitoring_report, period_bounds
from canhgac.storage.base import Store
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment

from tests.incidents import monitoring_oracle
from tests.storage.test_contract import make_incident
from tests.storage.test_posture_aggregation_contract import SCOPES, _random_incident

MS = timedelta(milliseconds=1)
DAY = date(2026, 11, 20)  # a Friday; T0 is 08:00 of it in Vietnam
MOMENTS: tuple[PeriodMoment, ...] = ("detected", "closed")


def _edges() -> list[Incident]:
    """Detected, or closed, exactly on the first moment of a Vietnam day or week, a millisecond before it, at the
    end or a millisecond before; the closed ones last seen well before (their alerts stopped days earlier)."""
    out = []
    moments = []
    for period in ("daily", "weekly"):
        start, end = period_bounds(period, DAY)
        moments += [start, start - MS, end, end - MS]
    for n, moment in enumerate(moments):
        seen = moment - timedelta(days=10)
        base = make_incident(f"M-{n:04d}", agency=["quynhon", "gialai", "binhdinh"][n % 3])
        out.append(base.model_copy(update={"detected_at": moment, "created": moment, "first_seen": moment,
                                           "last_seen": moment, "severity": list(Severity)[n % 4],
                                           "categories": [IncidentCategory.attempt]}))
        detected = seen - timedelta(hours=1)
        out.append(base.model_copy(update={
            "id": f"C-{n:04d}", "detected_at": detected, "created": detected, "first_seen": detected,
            "last_seen": seen, "state": IncidentState.resolved if n % 2 else IncidentState.closed,
            "history": [StateChange(at=moment, actor="soc", from_state=IncidentState.new,
                                    to_state=IncidentState.resolved if n % 2 else IncidentState.closed)]}))
    return out


@pytest.fixture
def incidents() -> list[Incident]:
    rng = random.Random(11)
    return [_random_incident(rng, n) for n in range(1, 161)] + _edges()


def _fill(store: Store, incidents: list[Incident]) -> None:
    with store.unit_of_work():
        for incident in incidents:
            store.create_incident(incident)
    store.refresh()


def _comparable(found: PeriodIncidents) -> dict[str, Any]:
    return {"total": found.total, "severity": found.by_severity, "state": found.by_state,
            "category": found.by_category, "agency": found.by_agency, "top": [i.id for i in found.top]}


def _periods() -> list[tuple[datetime, datetime]]:
    days = [DAY - timedelta(days=n) for n in (0, 1, 3, 9, 20, 38)]
    return [period_bounds(period, day) for day in days for period in ("daily", "weekly")]


def test_period_incidents_equal_reading_every_incident(store: Store, incidents: list[Incident]) -> None:
    _fill(store, incidents)
    checked = 0
    for start, end in _periods():
        for scope in SCOPES:
            for moment in MOMENTS:
                for limit in (3, 1000):
                    expected = monitoring_oracle.period_incidents(store, scope, moment, start, end, limit)
                    got = store.period_incidents(scope, moment=moment, start=start, end=end, limit=limit)
                    assert _comparable(got) == _comparable(expected), (start, scope, moment, limit)
                    checked += expected.total
    assert checked > 200  # the periods are not empty


def test_edges_of_vietnam_days_and_weeks(store: Store) -> None:
    _fill(store, _edges())
    # moments: a day's start, a millisecond before, its end, a millisecond before; then the same of its week
    for period, inside in (("daily", [0, 3]), ("weekly", [0, 1, 2, 3, 4, 7])):
        start, end = period_bounds(period, DAY)
        for moment, prefix in (("detected", "M"), ("closed", "C")):
            got = store.period_incidents(None, moment=moment, start=start, end=end, limit=100)
            assert sorted(i.id for i in got.top) == [f"{prefix}-{n:04d}" for n in inside], (period, moment)
            assert got.total == len(inside)


def test_report_counts_every_incident_and_lists_the_most_important(store: Store, settings: Any,
                                                                   incidents: list[Incident]) -> None:
    _fill(store, incidents)
    directory = Directory(settings)
    scope = SCOPES[1]
    for period in ("daily", "weekly"):
        start, end = period_bounds(period, DAY - timedelta(days=3))
        report = monitoring_report(store, directory, scope, "binhdinh", period, DAY - timedelta(days=3))
        for figures, lines, moment in ((report.opened, report.incidents_opened, "detected"),
                                       (report.closed, report.incidents_closed, "closed")):
            expected = monitoring_oracle.period_incidents(store, scope, moment, start, end, 50)
            assert figures.total == expected.total and figures.by_severity == expected.by_severity
            assert figures.by_state == expected.by_state
            assert [line.id for line in lines] == [i.id for i in expected.top]
            assert figures.more == max(0, expected.total - 50) and figures.truncated == (expected.total > 50)
            assert sum(c.count for c in figures.by_agency) == expected.total


def test_elasticsearch_report_requests_do_not_grow_with_incidents(osmem_clone: Any, settings: Any,
                                                                  incidents: list[Incident]) -> None:
    from canhgac.storage.elasticsearch import ElasticsearchStore
    from elasticsearch import Elasticsearch

    from tests.storage.es_proxy import EsProxy

    proxy = EsProxy(osmem_clone.url).start()
    try:
        store = ElasticsearchStore(Elasticsearch(proxy.url, server_mode="serverless"))
        directory = Directory(settings)
        requests = []
        for batch in (incidents[:20], incidents[20:]):
            _fill(store, batch)
            proxy.reset()
            for moment in MOMENTS:
                start, end = period_bounds("weekly", DAY - timedelta(days=3))
                store.period_incidents(None, moment=moment, start=start, end=end, limit=50)
            counted = len(proxy.seen)
            proxy.reset()
            monitoring_report(store, directory, None, None, "weekly", DAY - timedelta(days=3))
            requests.append((counted, len(proxy.seen)))
        assert requests[0] == requests[1] and requests[0][0] == 2, requests
        store.close()
    finally:
        proxy.close()
