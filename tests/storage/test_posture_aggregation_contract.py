"""Posture and ranking from store aggregations (decision 0046), on both stores: the same figures as reading and
assessing every incident (``tests/incidents/posture_oracle.py``), across settings, ``now`` and periods, with the
clock edges (due exactly now, done exactly at the deadline or a millisecond before) and the facts backfilled
into incidents stored before them."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from canhgac.core.config import AgencyLevel, Settings
from canhgac.core.directory import Directory
from canhgac.core.model import (
    Filing,
    FilingKind,
    Incident,
    IncidentCategory,
    IncidentState,
    Resolution,
    SeriousOverride,
    Severity,
    StateChange,
)
from canhgac.incidents.posture import load, posture, ranking, rules_of, weeks
from canhgac.storage.base import Store
from canhgac.storage.incident_facts import facts_of
from canhgac.storage.sqlite import SqliteStore

from tests.incidents import posture_oracle
from tests.storage.test_contract import T0, make_incident

AGENCIES = ["binhdinh", "quynhon", "quynhon-tranphu", "gialai", "gialai-annhon", "phuyen", "daklak", "ninhbinh",
            "namdinh", "btttt", "unknown-agency"]
SYSTEMS = [None, "", "cdvc", "dvc-binhdinh", "cong-quynhon", "dvc-daklak", "ngsp"]
NOW = T0 + timedelta(days=3)


def _state_path(rng: random.Random, start: datetime) -> tuple[IncidentState, list[StateChange], Resolution | None]:
    """A plausible history: acknowledged, perhaps resolved/closed, perhaps reopened and closed again."""
    at, state, history, resolution = start, IncidentState.new, [], None
    for target in rng.choice([[], ["acknowledged"], ["investigating"], ["acknowledged", "resolved"],
                              ["acknowledged", "closed"], ["closed"], ["acknowledged", "closed", "investigating"],
                              ["acknowledged", "resolved", "acknowledged", "closed"], ["contained"]]):
        at += timedelta(minutes=rng.choice([1, 14, 15, 59, 61, 300, 2000]), milliseconds=rng.randrange(1000))
        new = IncidentState(target)
        if new in (IncidentState.resolved, IncidentState.closed):
            resolution = rng.choice([None, Resolution.false_positive, Resolution.benign, Resolution.duplicate,
                                     *list(Resolution)])
        history.append(StateChange(at=at, actor="soc", from_state=state, to_state=new,
                                   resolution=resolution if new is IncidentState.closed else None))
        state = new
    return state, history, resolution if state in (IncidentState.resolved, IncidentState.closed) else None


def _random_incident(rng: random.Random, n: int) -> Incident:
    detected = T0 - timedelta(hours=rng.randrange(0, 24 * 40), minutes=rng.randrange(60),
                              milliseconds=rng.randrange(1000))
    state, history, resolution = _state_path(rng, detected)
    categories = rng.sample(list(IncidentCategory), rng.choice([0, 0, 1, 2]))
    filings = [Filing(kind=kind, filed_at=detected + timedelta(hours=rng.choice([0.5, 50, 71.9, 72, 100, 130])),
                      actor="soc") for kind in FilingKind if rng.random() < 0.3]
    override = None
    if rng.random() < 0.15:
        override = SeriousOverride(serious=rng.random() < 0.5, reason="phân loại lại", actor="soc", at=detected)
    last_seen = detected + timedelta(hours=rng.choice([0, 1, 24 * 5, 24 * 20]))
    return make_incident(f"P-{n:04d}", agency=rng.choice(AGENCIES)).model_copy(update={
        "severity": rng.choice(list(Severity)), "state": state, "history": history, "resolution": resolution,
        "detected_at": detected if rng.random() < 0.8 else None, "created": detected,
        "updated": detected + timedelta(days=1), "first_seen": detected, "last_seen": last_seen,
        "system": rng.choice(SYSTEMS), "categories": categories, "filings": filings, "serious_override": override,
        "rule_id": rng.choice(["web-sqli", "ssh-brute", "web-scan"]),
        "merged_into": "P-0000" if rng.random() < 0.05 else None})


def _edges(settings: Settings) -> list[Incident]:
    """Clocks on their edges at ``NOW``: due exactly now, one millisecond from due, done at or just before due."""
    high = settings.incidents.sla_for(Severity.high)
    ack = timedelta(minutes=high.acknowledge_minutes)
    notice = timedelta(hours=settings.incidents.deadlines.incident_notice_hours)
    base = make_incident("E-0000", agency="gialai-annhon")

    def one(n: int, detected: datetime, **update: Any) -> Incident:
        return base.model_copy(update={"id": f"E-{n:04d}", "detected_at": detected, "created": detected,
                                       "first_seen": detected, "last_seen": NOW - timedelta(hours=1), **update})

    def acknowledged(detected: datetime, after: timedelta) -> dict[str, Any]:
        return {"state": IncidentState.acknowledged, "history": [StateChange(
            at=detected + after, actor="soc", from_state=IncidentState.new, to_state=IncidentState.acknowledged)]}

    return [
        one(1, NOW - ack),  # acknowledge due exactly now: overdue
        one(2, NOW - ack + timedelta(milliseconds=1)),  # a millisecond before due: pending
        one(3, NOW - timedelta(hours=2), **acknowledged(NOW - timedelta(hours=2), ack)),  # at due: late
        one(4, NOW - timedelta(hours=2), **acknowledged(NOW - timedelta(hours=2), ack - timedelta(milliseconds=1))),
        one(5, NOW - notice),  # incident notice due exactly now
        one(6, NOW - notice, filings=[Filing(kind=FilingKind.incident_notice, filed_at=NOW - notice + notice,
                                             actor="soc")]),
        one(7, NOW - timedelta(days=1), system="cdvc", categories=[IncidentCategory.outage]),  # serious
        one(8, NOW - timedelta(days=1), system="cdvc", categories=[IncidentCategory.outage],
            serious_override=SeriousOverride(serious=False, reason="không", actor="soc", at=NOW)),
        one(9, NOW - timedelta(days=1), categories=[IncidentCategory.personal_data_leak]),  # breach clock
    ]


def _variants(settings: Settings) -> list[Settings]:
    """The example settings, and one with other SLA minutes, deadlines and serious test."""
    incidents = settings.incidents
    other = incidents.model_copy(update={
        "sla": {s: sla.model_copy(update={"acknowledge_minutes": sla.acknowledge_minutes * 3,
                                           "resolve_hours": sla.resolve_hours / 4})
                for s, sla in incidents.sla.items()},
        "deadlines": incidents.deadlines.model_copy(update={"incident_notice_hours": 30.5,
                                                             "serious_initial_report_hours": 6,
                                                             "notice_exempt_resolutions": ["benign"]}),
        "serious": incidents.serious.model_copy(update={"min_security_level": 3})})
    return [settings, settings.model_copy(update={"incidents": other})]


@pytest.fixture
def incidents(settings: Settings) -> list[Incident]:
    rng = random.Random(46)
    return [_random_incident(rng, n) for n in range(1, 161)] + _edges(settings)


def _fill(store: Store, incidents: list[Incident]) -> Store:
    for incident in incidents:
        store.create_incident(incident)
    store.refresh()
    return store


def _comparable(result: Any) -> dict[str, Any]:
    doc = result.model_dump(mode="json")
    for name in ("mtta_seconds", "mttr_seconds"):
        if doc.get(name) is not None:
            doc[name] = round(doc[name], 3)
    if "overdue" in doc:
        doc["overdue"] = sorted(doc["overdue"], key=lambda o: (o["due"], o["incident_id"], o["kind"]))
    doc.pop("overdue_total", None)
    return doc


SCOPES = [None, frozenset({"gialai", "binhdinh", "quynhon", "quynhon-tranphu", "gialai-annhon"}), frozenset()]


@pytest.mark.parametrize("variant", [0, 1])
def test_posture_equals_reading_every_incident(store: Store, settings: Settings, incidents: list[Incident],
                                               variant: int) -> None:
    _fill(store, incidents)
    directory = Directory(_variants(settings)[variant])
    for now, days in ((NOW, 30), (NOW - timedelta(days=9, minutes=7), 7), (NOW + timedelta(days=40), 366)):
        since = now - timedelta(days=days)
        for scope in SCOPES:
            expected = posture_oracle.posture(load(store, directory, scope, since, now), agency="x", since=since,
                                              now=now)
            got = posture(store, directory, scope, agency="x", since=since, now=now, overdue_limit=10_000)
            assert _comparable(got) == _comparable(expected), (now, days, scope)
            assert got.overdue_total == len(expected.overdue)
            assert weeks(store, scope, since, now) == posture_oracle.weeks(load(store, directory, scope, since, now),
                                                                           since, now), (now, days, scope)


@pytest.mark.parametrize("variant", [0, 1])
def test_ranking_equals_reading_every_incident(store: Store, settings: Settings, incidents: list[Incident],
                                               variant: int) -> None:
    _fill(store, incidents)
    directory = Directory(_variants(settings)[variant])
    for now in (NOW, NOW + timedelta(days=6, hours=5)):
        since = now - timedelta(days=30)
        for level in (AgencyLevel.province, AgencyLevel.commune, AgencyLevel.ministry):
            expected = posture_oracle.ranking(load(store, directory, None, since, now), directory, level,
                                              since=since, now=now)
            assert _comparable(ranking(store, directory, level, since=since, now=now)) == _comparable(expected)


def test_edges_are_counted_as_the_clocks_say(store: Store, settings: Settings) -> None:
    _fill(store, _edges(settings))
    directory = Directory(settings)
    got = posture(store, directory, None, agency=None, since=NOW - timedelta(days=30), now=NOW)
    overdue = {(o.incident_id, o.kind.value) for o in got.overdue}
    assert ("E-0001", "acknowledge") in overdue and ("E-0002", "acknowledge") not in overdue
    assert ("E-0005", "incident_notice") in overdue and ("E-0006", "incident_notice") not in overdue
    assert ("E-0007", "serious_initial_report") in overdue and ("E-0008", "serious_initial_report") not in overdue
    assert got.serious_open == 1
    # Acknowledged at the deadline is late (E-0003), a millisecond before is met (E-0004); both resolve clocks run.
    counts = store.posture_counts(frozenset({"gialai-annhon"}), since=NOW - timedelta(days=30), now=NOW,
                                  rules=rules_of(directory))["gialai-annhon"]
    assert counts.sla_met == 1
    assert counts.overdue["breach_notice"] == 0  # 72 h not yet passed for E-0009


def test_facts_follow_writes(store: Store, settings: Settings) -> None:
    incident = _edges(settings)[0]
    stored = store.create_incident(incident)
    directory = Directory(settings)
    since = NOW - timedelta(days=30)
    store.refresh()
    assert posture(store, directory, None, agency=None, since=since, now=NOW).open_total == 1
    closed = stored.model_copy(update={"state": IncidentState.closed, "history": [StateChange(
        at=NOW - timedelta(minutes=1), actor="soc", from_state=IncidentState.new, to_state=IncidentState.closed)]})
    with store.unit_of_work():  # the Elasticsearch bulk path
        store.update_incident(closed, expected_version=stored.version or "")
    store.refresh()
    after = posture(store, directory, None, agency=None, since=since, now=NOW)
    assert after.open_total == 0 and after.trend[-1].closed == 1


def test_sqlite_file_without_facts_is_backfilled_on_open(tmp_path: Path, settings: Settings,
                                                         incidents: list[Incident]) -> None:
    path = tmp_path / "old.db"
    store = _fill(SqliteStore(path), incidents[:40])
    store.close()
    conn = sqlite3.connect(path)
    for index in ("incidents_posture", "incidents_detected_period", "incidents_closed_period"):
        conn.execute(f"DROP INDEX {index}")
    for column in ("f_v", "f_detected", "f_ack"):
        conn.execute(f"ALTER TABLE incidents DROP COLUMN {column}")
    conn.commit()
    conn.close()
    reopened = SqliteStore(path)
    directory, since = Directory(settings), NOW - timedelta(days=30)
    expected = posture_oracle.posture(load(reopened, directory, None, since, NOW), agency=None, since=since, now=NOW)
    got = posture(reopened, directory, None, agency=None, since=since, now=NOW, overdue_limit=10_000)
    assert _comparable(got) == _comparable(expected)
    reopened.close()


def test_elasticsearch_documents_without_facts_are_backfilled_on_open(elasticsearch_store: Store, settings: Settings,
                                                                      incidents: list[Incident]) -> None:
    from canhgac.storage.elasticsearch import ElasticsearchStore
    from canhgac.storage.elasticsearch.incident_dsl import incident_doc

    old: Any = elasticsearch_store
    for incident in incidents[:40]:  # as a release before the facts wrote them
        doc = incident_doc(incident)
        del doc["facts"]
        old.client.index(index=f"{old.prefix}-incidents", id=incident.id, document=doc)
    old.client.indices.refresh(index=f"{old.prefix}-incidents")
    reopened = ElasticsearchStore(old.client, index_prefix=old.prefix)
    assert reopened.backfilled_facts == 40
    assert ElasticsearchStore(old.client, index_prefix=old.prefix).backfilled_facts == 0
    directory, since = Directory(settings), NOW - timedelta(days=30)
    expected = posture_oracle.posture(load(reopened, directory, None, since, NOW), agency=None, since=since, now=NOW)
    got = posture(reopened, directory, None, agency=None, since=since, now=NOW, overdue_limit=10_000)
    assert _comparable(got) == _comparable(expected)


def test_facts_match_the_clock_helpers(incidents: list[Incident]) -> None:
    from canhgac.incidents.models import acknowledged_at, closed_at
    from canhgac.storage.incident_facts import ms

    for incident in incidents:
        facts = facts_of(incident)
        for moment, after in ((acknowledged_at(incident), facts.ack_after), (closed_at(incident), facts.resolve_after)):
            assert after == (None if moment is None else ms(moment) - ms(incident.detected))


def test_overdue_list_holds_the_incidents_detected_first(store: Store, settings: Settings,
                                                         incidents: list[Incident]) -> None:
    _fill(store, incidents)
    directory, since = Directory(settings), NOW - timedelta(days=30)
    full = posture(store, directory, None, agency=None, since=since, now=NOW, overdue_limit=10_000)
    few = posture(store, directory, None, agency=None, since=since, now=NOW, overdue_limit=3)
    first = sorted({(i.detected, i.id) for i in incidents if i.id in {o.incident_id for o in full.overdue}})[:3]
    assert {o.incident_id for o in few.overdue} == {incident_id for _, incident_id in first}
    assert few.overdue_total == full.overdue_total == len(full.overdue) and few.score == full.score


def test_elasticsearch_ranking_is_one_request_whatever_the_incidents(osmem_clone: Any, settings: Settings,
                                                                     incidents: list[Incident]) -> None:
    from canhgac.storage.elasticsearch import ElasticsearchStore
    from elasticsearch import Elasticsearch

    from tests.storage.es_proxy import EsProxy

    proxy = EsProxy(osmem_clone.url).start()
    try:
        store = ElasticsearchStore(Elasticsearch(proxy.url, server_mode="serverless"))
        directory, since = Directory(settings), NOW - timedelta(days=30)
        requests = []
        for batch in (incidents[:20], incidents[20:]):
            with store.unit_of_work():
                for incident in batch:
                    store.create_incident(incident)
            store.refresh()
            proxy.reset()
            ranking(store, directory, AgencyLevel.province, since=since, now=NOW)
            ranked = len(proxy.seen)
            proxy.reset()
            posture(store, directory, None, agency=None, since=since, now=NOW)
            weeks(store, None, since, NOW)
            requests.append((ranked, len(proxy.seen)))
        # the ranking: one aggregation; the posture: counts, breakdown, overdue list, weeks
        assert requests == [(1, 4), (1, 4)]
        store.close()
    finally:
        proxy.close()
