"""Free-text search of ``event.original`` on SQLite through an FTS5 index (docs/decisions/0026).

The index holds, per event row, the words Elasticsearch's standard analyzer would make of the line
(``words.py``), written space-separated into a contentless FTS5 table keyed by the event's rowid. Its
``ascii`` tokenizer splits only at the spaces between them: every other character a word can hold (letters
and digits of any script, ``_ . : ' , ;``) is a token character, so one of our words is one FTS token and
``203.0.113.5`` is not ``113``. A search is then a lookup of each query word in the index, answered from the
index alone (``detail=none``: no positions are needed, a query is a set of words).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping

from canhgac.storage.sqlite.words import words

log = logging.getLogger(__name__)
TABLE = "events_fts"
ORIGINAL = """json_extract(doc, '$."event.original"')"""
CREATE = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(words, content='', detail=none, columnsize=0, "
          "tokenize=\"ascii tokenchars '_.:'',;'\")")
#: The events joined to the index, the index first: SQLite must not scan events and probe the index per row.
SOURCE = f"{TABLE} CROSS JOIN events ON events.rowid = {TABLE}.rowid"


def indexed_words(original: str | None) -> str:
    """What the index stores for one line: its distinct words (also the SQLite function ``cg_indexed_words``)."""
    return " ".join(dict.fromkeys(words(original))) if original else ""


def match_expression(text: str) -> str | None:
    """``thất bại`` → ``"thất" "bại"``: every word must be present; None when the text has no word at all."""
    wanted = sorted(set(words(text)))
    return " ".join(f'"{word}"' for word in wanted) if wanted else None


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("cg_indexed_words", 1, indexed_words, deterministic=True)


def index_rows_after(conn: sqlite3.Connection, last_rowid: int, indexed: Mapping[str, str]) -> None:
    """Index the event rows inserted after ``last_rowid`` (inside the writing transaction); ``indexed`` holds
    ``indexed_words`` of each event's line by event id, made before the transaction so it stays short."""
    new = conn.execute("SELECT rowid, id FROM events WHERE rowid > ?", (last_rowid,)).fetchall()
    conn.executemany(f"INSERT INTO {TABLE} (rowid, words) VALUES (?, ?)",
                     [(rowid, found) for rowid, event_id in new if (found := indexed.get(event_id))])


def last_event_rowid(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> None:
    """Create the index, filling it from the stored events of a database made before it existed."""
    if _exists(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _exists(conn):  # another process may have built it while we waited for the lock
            conn.execute(CREATE)
            count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            if count:
                log.warning("building the free-text index of %d stored events (once)", count)
            conn.execute(f"INSERT INTO {TABLE} (rowid, words) SELECT rowid, cg_indexed_words({ORIGINAL}) "
                         "FROM events")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _exists(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TABLE,)).fetchone() is not None
