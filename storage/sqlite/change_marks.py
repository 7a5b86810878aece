"""A counter in the file that every change to an incident bumps, whoever makes it (docs/decisions/0051).

Triggers keep it, so a process of another version, a script with the ``sqlite3`` shell or a migration's backfill
bump it too; reading it is one indexed row. Events, alerts and the other tables leave it alone: a list of
incidents stays answerable from a cache while ingest writes events."""

from __future__ import annotations

import sqlite3

TABLE = "change_marks"
INCIDENTS = "incidents"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO {TABLE} (name, n) VALUES ('{INCIDENTS}', 0);
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS incidents_marked_{action.lower()} AFTER {action} ON incidents
BEGIN UPDATE {TABLE} SET n = n + 1 WHERE name = '{INCIDENTS}'; END;
""" for action in ("INSERT", "UPDATE", "DELETE"))
READ = f"SELECT n FROM {TABLE} WHERE name = '{INCIDENTS}'"


def migrate(conn: sqlite3.Connection) -> None:
    conn.executescript(DDL)


def incidents_marker(conn: sqlite3.Connection) -> int:
    return conn.execute(READ).fetchone()[0]
