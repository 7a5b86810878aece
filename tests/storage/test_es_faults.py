"""Back-pressure and faults on the Elasticsearch write path, injected by a proxy in front of osmem-server:
429 bursts, 503, bulks with some items refused, a connection cut after the bulk reached the server, and
mapping errors. Whatever happens, every document ends stored exactly once and nothing is dropped.
Also: a write held in a unit of work that loses a race is reported, on both stores."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from canhgac.core.config import ElasticsearchSettings, Settings, StoreSettings, load_settings
from canhgac.core.directory import Directory
from canhgac.core.errors import StoreUnavailable, VersionConflict
from canhgac.core.model import OPEN_STATES, AuditEntry, IncidentState, utcnow
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import AlertQuery, EventQuery, IncidentQuery, Store
from canhgac.storage.elasticsearch import ElasticsearchStore
from canhgac.storage.elasticsearch.bulk import Backoff
from elasticsearch import Elasticsearch

from canhgac.simulator import Portal, TrafficSimulator
from tests.incidents.test_grouping import T0, Clock, alert
from tests.storage.es_proxy import EsProxy, Fault, Seen
from tests.storage.test_contract import make_alert, make_event, make_incident

FAST = {"base": 0.001, "cap": 0.01}


class Plan:
    """Faults for the first requests that match, then none."""

    def __init__(self) -> None:
        self.rules: list[tuple[Callable[[Seen], bool], Fault, int]] = []
        self.forwarded_bulks: list[int] = []  # actions per bulk that reached the proxy

    def add(self, when: Callable[[Seen], bool], fault: Fault, times: int = 1) -> None:
        self.rules.append((when, fault, times))

    def __call__(self, seen: Seen) -> Fault | None:
        if seen.is_bulk:
            self.forwarded_bulks.append(seen.bulk_actions)
        for n, (when, fault, times) in enumerate(self.rules):
            if times > 0 and when(seen):
                self.rules[n] = (when, fault, times - 1)
                return fault
        return None


def bulk(seen: Seen) -> bool:
    return seen.is_bulk


@pytest.fixture
def plan() -> Plan:
    return Plan()


@pytest.fixture
def proxy(osmem_clone, plan: Plan) -> Iterator[EsProxy]:  # type: ignore[no-untyped-def]
    running = EsProxy(osmem_clone.url, plan).start()
    yield running
    running.close()


@pytest.fixture
def faulty(proxy: EsProxy) -> Iterator[ElasticsearchStore]:
    store = ElasticsearchStore(Elasticsearch(proxy.url, server_mode="serverless"))
    store.backoff = Backoff(**FAST)
    yield store
    store.close()


def test_429_bursts_slow_the_writes_and_lose_nothing(faulty: ElasticsearchStore, plan: Plan) -> None:
    plan.add(bulk, Fault(status=429), times=3)
    events = [make_event(n) for n in range(300)]
    assert faulty.put_events(events) == 300
    faulty.refresh()
    assert faulty.count_events(EventQuery()) == 300
    assert faulty.backoff.waits == 3


def test_503_on_single_writes_is_waited_out(faulty: ElasticsearchStore, plan: Plan) -> None:
    plan.add(lambda s: s.method == "PUT" and "/_doc/" in s.path, Fault(status=503), times=2)
    created = faulty.create_incident(make_incident("BDH-2026-000001"))
    assert faulty.get_incident(created.id) == created
    assert faulty.backoff.waits == 2


def test_only_the_refused_items_of_a_bulk_are_sent_again(faulty: ElasticsearchStore, plan: Plan) -> None:
    plan.add(bulk, Fault(refuse_items=frozenset({0, 5, 7})))
    assert faulty.put_events([make_event(n) for n in range(20)]) == 20
    assert plan.forwarded_bulks == [20, 3]
    faulty.refresh()
    assert faulty.count_events(EventQuery()) == 20


def test_a_cut_mid_bulk_stores_once_and_still_reports_what_was_new(faulty: ElasticsearchStore,
                                                                  plan: Plan) -> None:
    faulty.put_alerts([make_alert(0)])  # stored before: not new on the next write
    plan.add(bulk, Fault(cut=True))
    alerts = [make_alert(n) for n in range(12)]
    fresh = faulty.put_alerts(alerts)
    assert sorted(a.id for a in fresh) == sorted(a.id for a in alerts[1:])  # new ones reach the incidents
    faulty.refresh()
    assert len(faulty.search_alerts(AlertQuery(limit=100))) == 12


def test_mapping_errors_go_to_dead_letters_with_the_reason(faulty: ElasticsearchStore, plan: Plan) -> None:
    plan.add(bulk, Fault(refuse_items=frozenset({1}), item_status=400))
    events = [make_event(n) for n in range(3)]
    assert faulty.put_events(events) == 2
    faulty.refresh()
    letters = faulty.search_dead_letters()
    assert [letter.raw for letter in letters] == [events[1]["event.original"]]
    assert "document_parsing_exception" in letters[0].reason
    assert plan.forwarded_bulks == [3, 1]  # not sent again; the second bulk is the dead letter


def test_a_cluster_that_stays_busy_is_unavailable_and_the_caller_keeps_its_batch(
        faulty: ElasticsearchStore, plan: Plan) -> None:
    faulty.backoff = Backoff(give_up_after=0.05, **FAST)
    plan.add(bulk, Fault(status=503), times=10_000)
    with pytest.raises(StoreUnavailable):
        faulty.put_events([make_event(1)])


def test_a_cluster_that_drops_every_connection_is_unavailable_soon(faulty: ElasticsearchStore, plan: Plan) -> None:
    plan.add(lambda s: True, Fault(cut=True), times=10_000)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        faulty.put_state("x", {"n": 1})
    assert time.monotonic() - started < faulty.backoff.give_up_after / 2
    assert faulty.backoff.waits == faulty.backoff.connection_attempts - 1


def test_no_forced_refresh_on_writes(faulty: ElasticsearchStore, proxy: EsProxy) -> None:
    proxy.reset()
    created = faulty.create_incident(make_incident("BDH-2026-000001"))
    faulty.update_incident(created.model_copy(update={"alert_count": 2}), expected_version=created.version or "")
    faulty.append_audit(AuditEntry(id="a-1", at=utcnow(), actor="system", action="create", object_type="incident",
                                   object_id=created.id, agency="binhdinh"))
    faulty.put_state("x", {"n": 1})
    faulty.put_events([make_event(1)])
    assert [faulty.next_sequence("incident:BDH:2026") for _ in range(3)] == [1, 2, 3]
    assert not [s for s in proxy.seen if s.forces_refresh]


# the whole pipeline through faults --------------------------------------------------------------------------
def _traffic(path: Path, lines: int, *, walks: bool = False) -> None:
    """Citizens' requests with an attack every 40; with ``walks``, one address in every 300 lines walking
    through 40 records (a correlation: record enumeration)."""
    simulator = TrafficSimulator([Portal("dvc-binhdinh", path)], path.with_name("auth.log"), seed=3)
    start = utcnow() - timedelta(hours=1)
    out: list[str] = []
    n = 0
    while len(out) < lines:
        at = start + timedelta(milliseconds=n * 300)
        n += 1
        if n % 40 == 0:
            out += [line for line in simulator.attack_lines(at)[1] if line.count('"') >= 6]
        if walks and n % 300 == 100:
            out += simulator.record_walk_lines(at, f"198.18.0.{n // 300 + 1}")
        out.append(simulator.citizen_line(at))
    path.write_text("".join(out[:lines]), encoding="utf-8")


def _ingest(url: str, log: Path, home: Path, monkeypatch: pytest.MonkeyPatch, *more: Path,
            between: Callable[[], None] = lambda: None, resume: bool = False) -> Store:
    from canhgac.runtime import Runtime, ingest_files

    monkeypatch.setenv("CANHGAC_HOME", str(home))
    es = ElasticsearchSettings(url=url, server_mode="serverless")
    settings = load_settings().model_copy(update={"store": StoreSettings(kind="elasticsearch", elasticsearch=es)})
    runtime = Runtime.build(settings)
    runtime.store.backoff = Backoff(**FAST)  # type: ignore[attr-defined]
    for path in (log, *more):
        between()
        ingest_files(runtime, [path], "nginx", agency="binhdinh", system="dvc-binhdinh", batch_lines=300,
                     resume=resume)
    runtime.store.refresh()
    return runtime.store


def test_steady_ingest_reads_nothing_a_refresh_would_hide(proxy: EsProxy, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """osmem-server's searches see writes at once, a real cluster's only after its refresh interval: so the
    ingest path, past its first lookup, must not search at all (realtime GETs and the process's view only),
    and must never ask for a refresh but the run's closing one."""
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    _traffic(first, 1200)
    log = first.read_text(encoding="utf-8").splitlines(keepends=True)
    first.write_text("".join(log[:600]), encoding="utf-8")
    second.write_text("".join(log[600:]), encoding="utf-8")
    store = _ingest(proxy.url, first, tmp_path / "home", monkeypatch, second, between=proxy.reset)
    requests = list(proxy.seen)
    assert requests[-1].forces_refresh  # ``ingest_files`` ends with one (and ``_ingest`` with another)
    while requests and requests[-1].forces_refresh:
        requests.pop()
    assert [r.path for r in requests if r.forces_refresh or r.path.endswith("/_search")] == []
    assert store.search_incidents(IncidentQuery(limit=1000))  # the second file did open or grow incidents
    assert sum(r.is_bulk for r in requests) >= 4


@pytest.mark.parametrize("resume", [False, True])
def test_steady_ingest_stays_within_its_request_budget(proxy: EsProxy, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, resume: bool) -> None:
    """Past the first file, a file costs per batch one bulk each for events, alerts, incidents and audit with
    state; then one for the last state with the source status (with ``--resume``: one more, the positions and
    the status after the state), and the run's closing refresh. No single-document write, and no read but
    ``--resume``'s realtime read of the file's position: a new source's saved status is known absent."""
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    _traffic(first, 1200)
    log = first.read_text(encoding="utf-8").splitlines(keepends=True)
    first.write_text("".join(log[:600]), encoding="utf-8")
    second.write_text("".join(log[600:]), encoding="utf-8")
    store = _ingest(proxy.url, first, tmp_path / "home", monkeypatch, second, between=proxy.reset, resume=resume)
    requests = list(proxy.seen)
    for _ in range(2):  # ``_ingest``'s own refresh, then the run's closing one
        assert requests.pop().forces_refresh
    position_read = [f"GET /canhgac-state/_doc/{quote('state:ingest:' + str(second.resolve()), safe='')}"]
    assert [f"{r.method} {r.path}" for r in requests if not r.is_bulk] == (position_read if resume else [])
    batches = 2  # 600 lines in batches of 300
    # With ``--resume`` the positions go in a bulk of their own, after the state they follow (decision 0037).
    assert len(requests) <= 4 * batches + 1 + 2 * resume
    saved = store.get_state(f"source-status:ingest:{second.resolve()}")
    assert saved is not None and saved["events"] > 0
    if resume:
        assert (store.get_state(f"ingest:{second.resolve()}") or {}).get("offset") == second.stat().st_size


def _summary(store: Store) -> dict[str, object]:
    incidents = store.search_incidents(IncidentQuery(limit=1000))
    return {"events": store.count_events(EventQuery()),
            "alerts": sorted(a.id for a in store.search_alerts(AlertQuery(limit=10_000))),
            "incidents": sorted((i.fingerprint, i.alert_count, len(i.alert_ids)) for i in incidents),
            "audit": len(store.list_audit(limit=10_000))}


def test_ingest_through_random_faults_stores_what_a_clean_run_stores(osmem_server, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "access.log"
    _traffic(log, 1500)
    with osmem_server.clone() as clean_clone:
        clean = _summary(_ingest(clean_clone.url, log, tmp_path / "clean", monkeypatch))
    rng = random.Random(11)

    def chaos(seen: Seen) -> Fault | None:
        roll = rng.random()
        if seen.is_bulk:
            if roll < 0.2:
                return Fault(status=429)
            if roll < 0.4:
                return Fault(refuse_items=frozenset(rng.sample(range(seen.bulk_actions),
                                                               max(1, seen.bulk_actions // 3))))
            if roll < 0.5:
                return Fault(cut=True)
        elif seen.method == "PUT" and roll < 0.2:
            return Fault(status=503)
        return None

    with osmem_server.clone() as faulty_clone:
        proxy = EsProxy(faulty_clone.url, chaos).start()
        try:
            store = _ingest(proxy.url, log, tmp_path / "faulty", monkeypatch)
            faulted = _summary(store)
        finally:
            proxy.close()
    assert clean["events"] == 1500
    assert len(clean["alerts"]) > 10 and clean["incidents"]  # type: ignore[arg-type]
    assert faulted == clean


# a lost race inside a unit of work, on both stores ----------------------------------------------------------
@pytest.fixture(params=["sqlite", "elasticsearch"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    if request.param == "sqlite":
        from canhgac.storage.sqlite import SqliteStore

        pair: tuple[Store, Store] = (SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db"))
    else:
        url = request.getfixturevalue("osmem_clone").url
        pair = (ElasticsearchStore(Elasticsearch(url, server_mode="serverless")),
                ElasticsearchStore(Elasticsearch(url, server_mode="serverless")))
    yield pair
    for store in pair:
        store.close()


def test_a_write_that_loses_a_race_in_a_unit_is_reported_and_not_audited(two_stores: tuple[Store, Store]) -> None:
    ingest, analyst = two_stores
    created = ingest.create_incident(make_incident("BDH-2026-000001"))
    lookup = IncidentQuery(fingerprint=created.fingerprint, states=frozenset(OPEN_STATES))
    assert [i.id for i in ingest.search_incidents(lookup)] == [created.id]
    analyst.update_incident(created.model_copy(update={"state": IncidentState.acknowledged}),
                            expected_version=created.version or "")
    raised = False
    with ingest.unit_of_work() as work:
        try:
            ingest.update_incident(created.model_copy(update={"alert_count": 5}),
                                   expected_version=created.version or "")
            ingest.append_audit(AuditEntry(id="grow-1", at=utcnow(), actor="system", action="grow",
                                           object_type="incident", object_id=created.id, agency="binhdinh"))
        except VersionConflict:
            raised = True  # where writes are sent at once, the loser hears it at once
    assert raised or work.conflicts == {created.id}
    ingest.refresh()
    assert ingest.list_audit(object_id=created.id) == []
    now = ingest.search_incidents(lookup)
    assert [(i.state, i.alert_count) for i in now] == [(IncidentState.acknowledged, 1)]


def test_writes_held_in_a_unit_are_read_back_and_get_real_versions(store: Store) -> None:
    with store.unit_of_work() as work:
        created = store.create_incident(make_incident("BDH-2026-000001"))
        grown = store.update_incident(created.model_copy(update={"alert_count": 3}),
                                      expected_version=created.version or "")
        store.put_state("checkpoint", {"offset": 7})
        assert store.get_state("checkpoint") == {"offset": 7}
        assert store.get_incident(created.id) == grown
    final = work.final(grown)
    assert store.get_incident(created.id) == final
    assert final.alert_count == 3
    store.update_incident(final.model_copy(update={"alert_count": 4}), expected_version=final.version or "")
    assert store.get_state("checkpoint") == {"offset": 7}


def test_grouping_redoes_a_change_that_lost_to_an_analyst(two_stores: tuple[Store, Store], settings: Settings) -> None:
    ingest, analyst = two_stores
    clock = Clock(T0 + timedelta(hours=1))
    incidents = IncidentService(ingest, Directory(settings), clock=clock)
    [opened] = incidents.ingest_alerts([alert(1)])
    current = analyst.get_incident(opened.incident.id)
    assert current is not None
    analyst.update_incident(current.model_copy(update={"state": IncidentState.acknowledged, "assignee": "lan"}),
                            expected_version=current.version or "")
    [grown] = incidents.ingest_alerts([alert(2)])  # the ingest node's view may still hold the old version
    stored = analyst.get_incident(opened.incident.id)
    assert not grown.created and grown.incident == stored
    assert stored is not None and (stored.state, stored.assignee, stored.alert_count) == \
        (IncidentState.acknowledged, "lan", 2)


def test_sequence_blocks_of_two_processes_never_repeat(two_stores: tuple[Store, Store]) -> None:
    first, second = two_stores
    numbers = [store.next_sequence("incident:BDH:2026") for _ in range(150) for store in (first, second)]
    assert len(set(numbers)) == 300
    assert numbers[:2] in ([1, 2], [1, 101])  # one at a time (SQLite) or a block each (Elasticsearch)


def test_the_grouping_view_catches_up_with_other_processes(osmem_clone) -> None:  # type: ignore[no-untyped-def]
    ingest, other = (ElasticsearchStore(Elasticsearch(osmem_clone.url, server_mode="serverless")) for _ in range(2))
    mine = ingest.create_incident(make_incident("BDH-2026-000001"))
    lookup = IncidentQuery(fingerprint=mine.fingerprint, states=frozenset(OPEN_STATES))
    assert [i.id for i in ingest.search_incidents(lookup)] == [mine.id]  # loads the view
    theirs = other.create_incident(make_incident("BDH-2026-000002", minutes=5))
    other.update_incident(mine.model_copy(update={"state": IncidentState.closed, "updated": utcnow()}),
                          expected_version=mine.version or "")
    other.refresh()
    ingest._view.reload_seconds = 0  # the next lookup reads what changed since the last one
    assert [i.id for i in ingest.search_incidents(lookup)] == [theirs.id]
    closed = IncidentQuery(fingerprint=mine.fingerprint, states=frozenset({IncidentState.closed}))
    assert [i.id for i in ingest.search_incidents(closed)] == [mine.id]


@pytest.mark.parametrize("cut", [False, True])
def test_a_source_status_carries_on_from_the_listing_or_its_own_read(two_stores: tuple[Store, Store], cut: bool,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process lists the saved statuses once: a source saved before carries on its counters, a new one
    starts from zero; past the listing's limit each source's status is read by key instead."""
    from canhgac.collectors import status as status_module

    earlier, later = two_stores
    first = status_module.StatusBoard(earlier)
    for source in ("a", "b"):
        first.register(source, "file")
        first.read(source, lines=7, events=5, dead_letters=2)
    first.persist()
    earlier.refresh()
    if cut:
        monkeypatch.setattr(status_module, "SAVED_LISTING_LIMIT", 1)
    second = status_module.StatusBoard(later)
    assert second.register("a", "file").events == 5
    assert second.register("b", "file").dead_letters == 2
    assert second.register("c", "file").events == 0
    second.read("c", lines=1, events=1, dead_letters=0)
    second.persist()
    assert (later.get_state("source-status:c") or {}).get("events") == 1


def test_an_outage_between_the_alerts_and_their_incidents_still_groups_every_alert(
        osmem_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The cluster stops answering right after a batch's alerts are stored, while its incidents are being
    written: the batch is retried once the cluster is back, finds its alerts already stored, and must group
    them all the same (Elasticsearch has no transaction to keep the two together)."""
    log = tmp_path / "access.log"
    _traffic(log, 900)
    with osmem_server.clone() as clean_clone:
        clean = _summary(_ingest(clean_clone.url, log, tmp_path / "clean", monkeypatch))
    plan = Plan()
    plan.add(lambda seen: seen.is_bulk and b"-incidents" in seen.body, Fault(status=503), times=6)
    with osmem_server.clone() as faulty_clone:
        proxy = EsProxy(faulty_clone.url, plan).start()
        try:
            monkeypatch.setitem(FAST, "give_up_after", 0.05)  # the store gives up soon; the delivery retries
            faulted = _summary(_ingest(proxy.url, log, tmp_path / "faulty", monkeypatch))
        finally:
            proxy.close()
    assert plan.rules[0][2] == 0  # the incident writes of the first batches were refused, then retried
    assert clean["incidents"] and faulted == clean


def _sqlite_ingest(log: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    from canhgac.runtime import Runtime, ingest_files

    monkeypatch.setenv("CANHGAC_HOME", str(home))
    runtime = Runtime.build(load_settings())
    ingest_files(runtime, [log], "nginx", agency="binhdinh", system="dvc-binhdinh", batch_lines=300)
    return runtime.store


def test_a_refused_incident_write_on_sqlite_loses_no_alert_when_the_batch_is_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite the batch's alerts go back with its refused incident write; the retried batch must still raise
    the alerts of its correlations, which have already counted its events and do not fire for them again."""
    import sqlite3

    from canhgac.storage.sqlite import SqliteStore

    log = tmp_path / "access.log"
    _traffic(log, 900, walks=True)
    clean_store = _sqlite_ingest(log, tmp_path / "clean", monkeypatch)
    clean = _summary(clean_store)
    alerts = clean_store.search_alerts(AlertQuery(limit=10_000))
    correlations = {a.rule_id for a in alerts if "correlation" in a.details}
    clean_store.close()
    real, refusals = SqliteStore.create_incident, [3]

    def busy_at_times(self: SqliteStore, incident):  # type: ignore[no-untyped-def]
        if refusals[0] and incident.rule_id in correlations:
            refusals[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real(self, incident)

    assert correlations  # the traffic fires correlations: what a retried batch would not raise again
    monkeypatch.setattr(SqliteStore, "create_incident", busy_at_times)
    faulted = _summary(_sqlite_ingest(log, tmp_path / "faulty", monkeypatch))
    assert refusals == [0]
    assert clean["incidents"] and faulted == clean



class _Died(BaseException):
    """The process dies here: nothing below catches it, as nothing catches a SIGKILL."""


def test_a_process_that_dies_between_the_alerts_and_their_incidents_is_made_good_by_the_next(
        osmem_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The next run reads the same lines again (no position was saved) and finds their alerts stored: with no
    transaction to have kept them with their incidents, it looks each one up and groups those in none."""
    log = tmp_path / "access.log"
    _traffic(log, 900)
    with osmem_server.clone() as clean_clone:
        clean = _summary(_ingest(clean_clone.url, log, tmp_path / "clean", monkeypatch))
    real = IncidentService.ingest_alerts

    def die(self: IncidentService, alerts):  # type: ignore[no-untyped-def]
        raise _Died

    with osmem_server.clone() as clone:
        monkeypatch.setattr(IncidentService, "ingest_alerts", die)
        with pytest.raises(_Died):
            _ingest(clone.url, log, tmp_path / "run", monkeypatch)
        monkeypatch.setattr(IncidentService, "ingest_alerts", real)
        store = ElasticsearchStore(Elasticsearch(clone.url, server_mode="serverless"))
        store.refresh()
        assert store.search_alerts(AlertQuery(limit=10)) and not store.search_incidents(IncidentQuery(limit=10))
        store.close()
        again = _summary(_ingest(clone.url, log, tmp_path / "run", monkeypatch))
    assert clean["incidents"] and again["incidents"] == clean["incidents"]


def test_the_first_grouping_lookup_sees_what_a_process_that_just_died_wrote(faulty: ElasticsearchStore,
                                                                           proxy: EsProxy) -> None:
    """A search sees writes only after the cluster's refresh (osmem at once, a real cluster within a second): the
    view a grouping process starts from is loaded after one refresh of the incidents, and only that load."""
    proxy.reset()  # what setting the store up asked
    for _ in range(3):
        faulty.search_incidents(IncidentQuery(fingerprint="entity|binhdinh|source.ip|203.0.113.9", limit=1))
    wanted = ("/canhgac-incidents/_refresh", "/canhgac-incidents/_search")
    incidents = [f"{s.method} {s.path}" for s in proxy.seen if s.path in wanted]
    assert incidents == ["POST /canhgac-incidents/_refresh", "POST /canhgac-incidents/_search"], incidents
    assert sum(s.forces_refresh for s in proxy.seen) == 1
