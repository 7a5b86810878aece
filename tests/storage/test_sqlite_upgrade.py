"""``canhgac store upgrade``: an embedded store an older version made (events keyed by their id alone) is moved
into the current layout, keeping every event, the free-text index and the one-row-per-id rule."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import orjson
import pytest
from canhgac.core.config import load_settings
from canhgac.core.model import parse_utc
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery
from canhgac.storage.sqlite import SqliteStore, event_keys

from canhgac.cli import main
from tests.security.test_costly_scans import events


def _older_store(path: Path, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, ts INTEGER NOT NULL, agency TEXT NOT NULL, "
                 "doc TEXT NOT NULL)")
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                     [(e["event.id"], int(parse_utc(e["@timestamp"]).timestamp() * 1000), e["organization.id"],
                       orjson.dumps(e).decode()) for e in events(count)])
    conn.commit()
    conn.close()


def test_an_older_store_is_upgraded_in_place_and_keeps_everything(home: Path, capsys: pytest.CaptureFixture[str],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    database = home / load_settings().store.sqlite.path
    _older_store(database, 40)
    with caplog.at_level(logging.WARNING):
        older = open_store(load_settings())
    assert "canhgac store upgrade" in caplog.text
    assert isinstance(older, SqliteStore)
    assert [e["log.offset"] for e in older.search_events(EventQuery(text="hs7"))] == [7]  # the text index is made
    older.close()

    assert main(["store", "upgrade"]) == 0
    assert "Đã chuyển 40 sự kiện sang bố cục hiện hành" in capsys.readouterr().out
    conn = sqlite3.connect(database)
    assert not event_keys.keyed_by_id(conn)
    assert {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'events'")} >= {
        "events", "events_agency_ts", "events_ts", "events_span_id"}
    conn.close()

    store = open_store(load_settings())
    try:
        assert store.count_events(EventQuery()) == 40
        assert [e["log.offset"] for e in store.search_events(EventQuery(text="hs7"))] == [7]  # same rows, same ids
        assert store.put_events(events(40)) == 0  # one row per event still
        found = store.get_event(events(40)[33]["event.id"])
        assert found is not None and found["log.offset"] == 33
    finally:
        store.close()
    assert main(["store", "upgrade"]) == 0
    assert "đã ở bố cục hiện hành: không có gì phải làm" in capsys.readouterr().out


def test_a_failed_upgrade_leaves_the_older_table_whole(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = home / load_settings().store.sqlite.path
    _older_store(database, 10)
    SqliteStore(database).close()
    monkeypatch.setattr(event_keys, "_INDEXES", ("CREATE INDEX broken ON events (no_such_column)",))
    with pytest.raises(sqlite3.OperationalError):
        main(["store", "upgrade"])
    conn = sqlite3.connect(database)
    try:
        assert event_keys.keyed_by_id(conn) and conn.execute("SELECT count(*) FROM events").fetchone() == (10,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'events_rebuilt'").fetchone() is None
    finally:
        conn.close()
