"""Free-text event search and the national ranking cost what the answer needs, not a pass over every stored
row per request: measured by the work the store does (SQLite virtual-machine steps and query plan, incident
reads), never by wall time. Elasticsearch answered text from its index already; the storage contract checks it
stays one indexed request, and that both stores give the same answers."""

from __future__ import annotations

import sqlite3
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from canhgac.api import create_app
from canhgac.core.config import Settings
from canhgac.core.model import Incident, Severity, event_id, to_utc_iso
from canhgac.storage.base import EventQuery, Store
from canhgac.storage.sqlite import SqliteStore
from canhgac.storage.sqlite import store as sqlite_store_module
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, NOW, FrozenClock, ok

EVENTS = 20_000
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
STEP = 100  # SQLite calls the progress handler every STEP virtual-machine instructions


def line(n: int) -> str:
    return (f'100.72.{n // 250 % 250}.{n % 250} - - [20/Nov/2026:08:00:00 +0700] "GET /thu-tuc/tra-cuu?ma=HS{n} '
            f'HTTP/1.1" 200 5120 "https://dichvucong.gov.vn/" "Mozilla/5.0"')


def events(count: int) -> list[dict[str, Any]]:
    return [{"@timestamp": to_utc_iso(T0 + timedelta(seconds=n)), "organization.id": "quynhon" if n % 2 else "phuyen",
             "event.id": event_id("/var/log/nginx/access.log", n, line(n).encode()), "event.original": line(n),
             "log.offset": n} for n in range(count)]


class Meter:
    """Every statement the store's connections run, and the virtual-machine steps they take."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.steps = 0

    def connect(self, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = sqlite3.connect(*args, **kwargs)
        conn.set_trace_callback(self.statements.append)
        conn.set_progress_handler(self._step, STEP)
        return conn

    def _step(self) -> int:
        self.steps += STEP
        return 0

    def reset(self) -> None:
        self.statements.clear()
        self.steps = 0


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> Meter:
    found = Meter()
    shim = types.SimpleNamespace(**{name: getattr(sqlite3, name) for name in dir(sqlite3) if not name.startswith("__")})
    shim.connect = found.connect
    monkeypatch.setattr(sqlite_store_module, "sqlite3", shim)
    return found


@pytest.fixture
def big_sqlite(tmp_path: Path, meter: Meter) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "canhgac.db")
    for start in range(0, EVENTS, 5000):
        store.put_events(events(EVENTS)[start:start + 5000])
    store.catch_up_indexes()  # as the running service does every few seconds (docs/decisions/0037)
    yield store
    store.close()


def plan(database: Path, statement: str) -> str:
    conn = sqlite3.connect(database)
    try:
        return "\n".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"))
    finally:
        conn.close()


def test_viewer_text_search_uses_the_full_text_index_not_a_scan(big_sqlite: SqliteStore, meter: Meter,
                                                                settings: Settings) -> None:
    with TestClient(create_app(settings, big_sqlite, clock=FrozenClock(NOW))) as client:
        for text, expected in (("ttp", []), ("HS12345", [12345]), ("100.72.49.95 tra", [12345]),
                               ("phuyen", [])):
            meter.reset()
            found = ok(client.get("/api/v1/events", params={"q": text}, headers=BINHDINH))
            assert [e["log.offset"] for e in found] == expected, text
            # A pass over 20,000 rows takes hundreds of thousands of steps; an index lookup a few thousand.
            assert meter.steps < 20_000, (text, meter.steps)
    searches = [s for s in meter.statements if s.lstrip().upper().startswith("SELECT") and "MATCH" in s]
    assert searches, "the text search did not use the full-text index"
    steps = plan(big_sqlite.path, searches[-1])
    assert "VIRTUAL TABLE INDEX" in steps and "SCAN events " not in steps + " ", steps


def test_an_event_is_found_by_id_without_a_pass_over_the_table(big_sqlite: SqliteStore, meter: Meter) -> None:
    newest, oldest = events(EVENTS)[-3], events(EVENTS)[4]
    for wanted in (newest, oldest):
        meter.reset()
        found = big_sqlite.get_event(wanted["event.id"])
        assert found is not None and found["log.offset"] == wanted["log.offset"]
        # A scan of 20,000 rows takes hundreds of thousands of steps; a probe per ten-minute span a few thousand.
        assert meter.steps < 20_000, meter.steps
    meter.reset()
    assert big_sqlite.get_event(event_id("/var/log/nginx/access.log", 1, b"never logged")) is None
    assert big_sqlite.get_event(oldest["event.id"], agencies=frozenset({"quynhon"})) is None  # phuyen's event
    assert meter.steps < 40_000, meter.steps
    meter.reset()
    query = EventQuery(filters={"event.id": [newest["event.id"], oldest["event.id"], "nope"]}, limit=10)
    assert sorted(e["log.offset"] for e in big_sqlite.search_events(query)) == [4, EVENTS - 3]
    assert meter.steps < 40_000, meter.steps
    meter.reset()
    assert big_sqlite.put_events(events(EVENTS)[-5000:]) == 0, "a replayed batch must store nothing"


def test_an_older_database_gets_its_index_on_open(tmp_path: Path, meter: Meter) -> None:
    database = tmp_path / "old.db"
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, ts INTEGER NOT NULL, agency TEXT NOT NULL, "
                 "doc TEXT NOT NULL)")
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                     [(e["event.id"], n, e["organization.id"], orjson.dumps(e).decode())
                      for n, e in enumerate(events(10))])
    conn.commit()
    conn.close()
    store = SqliteStore(database)
    try:
        meter.reset()
        assert [e["log.offset"] for e in store.search_events(EventQuery(text="hs7"))] == [7]
        assert any("MATCH" in statement for statement in meter.statements), "old events are not indexed"
        store.put_events(events(12))
        assert [e["log.offset"] for e in store.search_events(EventQuery(text="HS11"))] == [11]
        assert store.count_events(EventQuery(text="mozilla")) == 12
        assert store.put_events(events(12)) == 0  # still one row per id, through the file's own primary key
        found = store.get_event(events(12)[3]["event.id"])
        assert found is not None and found["log.offset"] == 3
        assert len(store.search_events(EventQuery(filters={"event.id": [events(12)[11]["event.id"]]}))) == 1
    finally:
        store.close()


def test_ranking_is_not_recomputed_for_every_request(sqlite_store: Store, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for n, agency in enumerate(["quynhon", "phuyen", "namdinh"]):
        sqlite_store.create_incident(Incident(id=f"X-{n}", agency=agency, title="t", severity=Severity.high,
                                              fingerprint=f"f{n}", rule_id="r", first_seen=NOW - timedelta(hours=1),
                                              last_seen=NOW - timedelta(hours=1)))
    reads: list[int] = []
    aggregate = sqlite_store.posture_counts  # the ranking's one aggregation over the incidents

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = aggregate(*args, **kwargs)
        reads.append(len(found))
        return found

    monkeypatch.setattr(sqlite_store, "posture_counts", counted)
    clock = FrozenClock(NOW)
    with TestClient(create_app(settings, sqlite_store, clock=clock)) as client:
        first = ok(client.get("/api/v1/posture/ranking", headers=ANALYST))
        loads = len(reads)
        assert loads >= 1
        for headers in (BINHDINH, ANALYST, BINHDINH) * 3:
            ok(client.get("/api/v1/posture/ranking", headers=headers))
        assert len(reads) == loads, "every request aggregated every incident again"
        # One cached ranking, filtered per caller: a viewer's narrowed copy does not narrow the next answer.
        assert ok(client.get("/api/v1/posture/ranking", headers=BINHDINH))["entries"] == []
        assert sorted(e["agency"] for e in ok(client.get("/api/v1/posture/ranking", headers=ANALYST))["entries"]) \
            == ["daklak", "gialai", "ninhbinh"]
        sqlite_store.create_incident(Incident(id="X-9", agency="quynhon", title="t", severity=Severity.critical,
                                              fingerprint="f9", rule_id="r", first_seen=NOW, last_seen=NOW))
        clock.advance(minutes=2)  # past the cache's lifetime: the new incident counts
        later = ok(client.get("/api/v1/posture/ranking", headers=ANALYST))
        assert len(reads) > loads
        score = {e["agency"]: e["score"] for e in later["entries"]}
        assert score["gialai"] < {e["agency"]: e["score"] for e in first["entries"]}["gialai"]
