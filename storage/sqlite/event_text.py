"""Free-text search of ``event.original`` on SQLite through an FTS5 index (docs/decisions/0026, 0037).

The index holds, per event row, the words Elasticsearch's standard analyzer would make of the line
(``words.py``), written space-separated into a contentless FTS5 table keyed by the event's rowid. Its
``ascii`` tokenizer splits only at the spaces between them: every other character a word can hold (letters
and digits of any script, ``_ . : ' , ;``) is a token character, so one of our words is one FTS token and
``203.0.113.5`` is not ``113``. A search is then a lookup of each query word in the index, answered from the
index alone (``detail=none``: no positions are needed, a query is a set of words).

Writing events does not touch the index (its words cost more than the insert itself): the index records
the last event rowid it holds, and a text search first indexes the rows after it (``catch_up``), so it
answers exactly as an index kept on the write path would, and the cost falls on whoever searches.
"""

from __future__ import annotations

import logging
import sqlite3

from canhgac.storage.sqlite.words import words

log = logging.getLogger(__name__)
TABLE = "events_fts"
#: One row: the highest event rowid the index holds.
MARK = "events_fts_mark"
ORIGINAL = """json_extract(doc, '$."event.original"')"""
CREATE = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(words, content='', detail=none, columnsize=0, "
          "tokenize=\"ascii tokenchars '_.:'',;'\")")
#: The events joined to the index, the index first: SQLite must not scan events and probe the index per row.
SOURCE = f"{TABLE} CROSS JOIN events ON events.rowid = {TABLE}.rowid"
#: Rows indexed per write transaction while catching up, so the ingest writer never waits long for the lock.
CHUNK_ROWS = 20_000


def indexed_words(original: str | None) -> str:
    """What the index stores for one line: its distinct words (also the SQLite function ``cg_indexed_words``)."""
    return " ".join(dict.fromkeys(words(original))) if original else ""


def match_expression(text: str) -> str | None:
    """``thất bại`` → ``"thất" "bại"``: every word must be present; None when the text has no word at all."""
    wanted = sorted(set(words(text)))
    return " ".join(f'"{word}"' for word in wanted) if wanted else None


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("cg_indexed_words", 1, indexed_words, deterministic=True)


def catch_up(conn: sqlite3.Connection) -> int:
    """Index every event row written since the index was last brought up to date; the number indexed."""
    done = 0
    while True:
        if _mark(conn) >= _last_rowid(conn):
            return done
        conn.execute("BEGIN IMMEDIATE")
        try:
            mark = _mark(conn)  # another connection may have indexed while we waited for the lock
            upto = conn.execute("SELECT max(rowid) FROM (SELECT rowid FROM events WHERE rowid > ? ORDER BY rowid "
                                "LIMIT ?)", (mark, CHUNK_ROWS)).fetchone()[0]
            if upto is not None:
                _index_range(conn, mark, upto)
                conn.execute(f"UPDATE {MARK} SET upto = ?", (upto,))
                done += upto - mark
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if upto is None:
            return done


def _index_range(conn: sqlite3.Connection, after: int, upto: int) -> None:
    conn.execute(f"INSERT INTO {TABLE} (rowid, words) SELECT rowid, found FROM (SELECT rowid, "
                 f"cg_indexed_words({ORIGINAL}) AS found FROM events WHERE rowid > ? AND rowid <= ?) "
                 "WHERE found != ''", (after, upto))


def _mark(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT upto FROM {MARK}").fetchone()[0]


def _last_rowid(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> None:
    """Create the index and its mark. A database made before the index gets it empty and filled by the first
    search; one whose index was kept on the write path (before 0037) is complete up to its last event."""
    if _exists(conn, MARK):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _exists(conn, MARK):  # another process may have made it while we waited for the lock
            complete = _exists(conn, TABLE)
            if not complete:
                conn.execute(CREATE)
            conn.execute(f"CREATE TABLE {MARK} (upto INTEGER NOT NULL)")
            conn.execute(f"INSERT INTO {MARK} (upto) VALUES (?)", (_last_rowid(conn) if complete else 0,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None
