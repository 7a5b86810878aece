"""How the events table keeps one row per event id without an index on the id alone (docs/decisions/0053).

Event ids are hashes, so an index on the id alone takes every insert to a random page of a tree as large as the
table: once it outgrows the page cache (a few million events, a day of a province) each insert reads and
rewrites a page, and the bare insert falls from 36k to 15k rows/s at 3 million events. The unique key is
``(ts / SPAN_MS, id)`` instead: inserts land in the current ten-minute span, a small, hot part of the tree.
The same line always has the same time, so the key still makes a replayed line a no-op.

A lookup by id alone walks the spans that hold events, newest first, one index probe each: the recent events an
analyst opens come first; a missing id costs one probe per span kept (30 days: 4,320, about 15 ms).
A file made before this layout keeps its primary key on the id and is looked up through it until ``rebuild``
(``canhgac store upgrade``) moves its events into this layout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SPAN_MS = 600_000
SPAN = f"ts / {SPAN_MS}"
INDEX = f"CREATE UNIQUE INDEX IF NOT EXISTS events_span_id ON events ({SPAN}, id)"
_SPANS = (f"WITH RECURSIVE spans(n) AS (SELECT max({SPAN}) FROM events UNION ALL "
          f"SELECT (SELECT max({SPAN}) FROM events WHERE {SPAN} < spans.n) FROM spans WHERE spans.n IS NOT NULL) ")


_SCHEMA = [statement.strip() for statement in (Path(__file__).parent / "schema.sql").read_text().split(";")]
#: The events table as schema.sql makes it, under another name, and the indexes it and this module give it.
_REBUILT = next(s for s in _SCHEMA if "TABLE IF NOT EXISTS events (" in s).replace(" events (", " events_rebuilt (", 1)
_INDEXES = (*(s for s in _SCHEMA if "INDEX" in s and " ON events (" in s), INDEX)


def keyed_by_id(conn: sqlite3.Connection) -> bool:
    table = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()[0]
    return "PRIMARY KEY" in table.upper()


def migrate(conn: sqlite3.Connection) -> bool:
    """Makes the span key for a table without a primary key; True when the table is keyed by id (older file)."""
    if keyed_by_id(conn):
        return True
    conn.execute(INDEX)
    return False


def rebuild(conn: sqlite3.Connection) -> int | None:
    """Moves an older file's events into this layout in one transaction (a crash leaves the old table whole);
    how many were moved, or None when the table has this layout already. Row ids are kept: the free-text index
    (event_text.py) refers to them."""
    if not keyed_by_id(conn):
        return None
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_REBUILT)
        moved = conn.execute("INSERT INTO events_rebuilt (rowid, id, ts, agency, doc) "
                             "SELECT rowid, id, ts, agency, doc FROM events ORDER BY rowid").rowcount
        conn.execute("DROP TABLE events")
        conn.execute("ALTER TABLE events_rebuilt RENAME TO events")
        for statement in _INDEXES:
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return moved


def one(keyed_by_id: bool) -> str:
    """``SELECT agency, doc`` of the event whose id is the one parameter."""
    if keyed_by_id:
        return "SELECT agency, doc FROM events WHERE id = ?"
    return (_SPANS + f"SELECT e.agency, e.doc FROM spans CROSS JOIN events e "
                     f"ON e.{SPAN} = spans.n AND e.id = ? LIMIT 1")


def among(keyed_by_id: bool, count: int) -> str:
    """A condition on ``events`` true for the rows whose id is one of ``count`` parameters."""
    marks = ",".join("?" * count)
    if keyed_by_id:
        return f"id IN ({marks})"
    return (f"events.rowid IN ({_SPANS}SELECT e.rowid FROM spans CROSS JOIN events e "
            f"ON e.{SPAN} = spans.n AND e.id IN ({marks}))")
