"""SQLite's free-text index kept off the write path (docs/decisions/0037): a search first indexes the events
written since the last one, so answers are those of an index written with every event; older files migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from canhgac.storage.base import EventQuery
from canhgac.storage.sqlite import event_text
from canhgac.storage.sqlite.store import SqliteStore

from tests.storage.test_contract import make_event


def found(store: SqliteStore, text: str) -> list[int]:
    return sorted(e["log.offset"] // 100 for e in store.search_events(EventQuery(text=text, limit=1000)))


def test_searches_see_every_event_written_before_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_text, "CHUNK_ROWS", 3)  # catching up in several short transactions
    store = SqliteStore(tmp_path / "a.db")
    store.put_events([make_event(n) for n in range(10)])
    assert found(store, "203.0.113.5") == list(range(10))
    store.put_events([make_event(n) for n in range(10, 12)])
    assert store.catch_up_indexes() == 2 and store.catch_up_indexes() == 0  # what the service does ahead
    assert found(store, "203.0.113.5") == list(range(12))
    store.put_events([make_event(n) for n in range(8, 15)])  # 8 and 9 again: not stored, not indexed twice
    assert found(store, "203.0.113.5") == list(range(15))
    assert store.count_events(EventQuery(text="203.0.113.5")) == 15
    other = SqliteStore(tmp_path / "a.db")  # another process (an API worker) reading the same file
    store.put_events([make_event(n) for n in range(15, 20)])
    assert found(other, "203.0.113.5") == list(range(20)) == found(store, "203.0.113.5")
    store.close()
    other.close()


@pytest.mark.parametrize("made_by", ["write-path index (before 0037)", "no index (before 0026)"])
def test_an_older_file_migrates(tmp_path: Path, made_by: str) -> None:
    store = SqliteStore(tmp_path / "old.db")
    store.put_events([make_event(n) for n in range(6)])
    assert found(store, "203.0.113.5") == list(range(6))  # indexed now, as the write path used to do
    store.close()
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute(f"DROP TABLE {event_text.MARK}")
    if made_by.startswith("no index"):
        conn.execute(f"DROP TABLE {event_text.TABLE}")
    conn.commit()
    conn.close()
    reopened = SqliteStore(tmp_path / "old.db")
    reopened.put_events([make_event(6)])
    assert found(reopened, "203.0.113.5") == list(range(7))
    reopened.close()
