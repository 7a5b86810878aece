"""Retention on SQLite: events and dead letters older than the configured number of days are deleted, as the
lifecycle policy does on Elasticsearch (docs/decisions/0036). Alerts, incidents and the audit trail stay."""

from __future__ import annotations

import sqlite3

from canhgac.storage.sqlite import event_text


def delete_before(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    """Delete, inside the caller's transaction, events with ``ts`` and dead letters ``received`` before the cutoff."""
    mark = conn.execute(f"SELECT upto FROM {event_text.MARK}").fetchone()[0]
    # The free-text index is contentless: a row leaves it only when told the words it was indexed with, and
    # only rows up to the index's mark are in it.
    conn.execute(
        f"INSERT INTO {event_text.TABLE} ({event_text.TABLE}, rowid, words) "
        f"SELECT 'delete', rid, words FROM (SELECT rowid AS rid, cg_indexed_words({event_text.ORIGINAL}) AS words "
        "FROM events WHERE ts < ? AND rowid <= ?) WHERE words != ''", (cutoff_ms, mark))
    events = conn.execute("DELETE FROM events WHERE ts < ?", (cutoff_ms,)).rowcount
    letters = conn.execute("DELETE FROM dead_letters WHERE received < ?", (cutoff_ms,)).rowcount
    # New rows take the rowid after the highest left: if that is under the mark they would never be indexed.
    last = conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
    if last < mark:
        conn.execute(f"UPDATE {event_text.MARK} SET upto = ?", (last,))
    return events + letters
