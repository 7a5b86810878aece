"""The incident and record parts of the SQLite store: columns added to older files, query building."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import orjson
from canhgac.core.model import Incident
from canhgac.storage import incident_text
from canhgac.storage.base import STATE_RANK, IncidentQuery
from canhgac.storage.sqlite import posture_sql

#: Columns the incident table gained after its first release, with how to fill them from the document.
ADDED_COLUMNS = {
    "severity": ("INTEGER NOT NULL DEFAULT 0",
                 "CASE json_extract(doc, '$.severity') WHEN 'low' THEN 1 WHEN 'medium' THEN 2 "
                 "WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END"),
    "system": ("TEXT", "json_extract(doc, '$.system')"),
    "assignee": ("TEXT", "json_extract(doc, '$.assignee')"),
    "first_seen": ("INTEGER NOT NULL DEFAULT 0",
                   "CAST(round((julianday(json_extract(doc, '$.first_seen')) - 2440587.5) * 86400000) AS INTEGER)"),
    "created": ("INTEGER NOT NULL DEFAULT 0",
                "CAST(round((julianday(json_extract(doc, '$.created')) - 2440587.5) * 86400000) AS INTEGER)"),
    "state_rank": ("INTEGER NOT NULL DEFAULT 0",
                   "CASE state " + " ".join(f"WHEN '{s.value}' THEN {r}" for s, r in STATE_RANK.items()) +
                   " ELSE 0 END"),
    "alert_count": ("INTEGER NOT NULL DEFAULT 0", "coalesce(json_extract(doc, '$.alert_count'), 0)"),
}
INDEXES = """
CREATE INDEX IF NOT EXISTS incidents_agency_seen ON incidents (agency, last_seen);
CREATE INDEX IF NOT EXISTS incidents_assignee ON incidents (assignee, last_seen);
CREATE INDEX IF NOT EXISTS incidents_scope_seen ON incidents (agency, state, last_seen, id);
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL, id TEXT NOT NULL, agency TEXT, doc TEXT NOT NULL, PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_agency ON records (kind, agency, id);
CREATE TABLE IF NOT EXISTS incident_rules (
  rule_id TEXT NOT NULL, incident_id TEXT NOT NULL, PRIMARY KEY (rule_id, incident_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incident_rules_incident ON incident_rules (incident_id);
"""
#: Words of each incident (``incident_text``), keyed by the incident's rowid; content kept, so rows can change.
TEXT_TABLE = "incidents_fts"
CREATE_TEXT = (f"CREATE VIRTUAL TABLE {TEXT_TABLE} USING fts5(words, detail=none, "
               "tokenize=\"ascii tokenchars '_.:'',;'\")")
INCIDENT_COLUMNS = ("id", "agency", "state", "fingerprint", "rule_id", "last_seen", "doc", *ADDED_COLUMNS,
                    *posture_sql.FACT_COLUMNS)
SORT_COLUMN = {"last_seen": "last_seen", "first_seen": "first_seen", "created": "created", "severity": "severity",
               "state": "state_rank", "alert_count": "alert_count", "id": "id", "agency": "agency"}
SEVERITY_NAME = "CASE severity WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' WHEN 4 THEN 'critical' END"
GROUP_COLUMN = {"severity": SEVERITY_NAME, "state": "state", "system": "system", "agency": "agency",
                "rule_id": "rule_id", "assignee": "assignee"}


def migrate(conn: sqlite3.Connection) -> None:
    present = {row[1] for row in conn.execute("PRAGMA table_info(incidents)")}
    missing = [name for name in ADDED_COLUMNS if name not in present]
    if missing:
        conn.execute("BEGIN IMMEDIATE")
        try:
            present = {row[1] for row in conn.execute("PRAGMA table_info(incidents)")}
            for name in (n for n in missing if n not in present):
                ddl, fill = ADDED_COLUMNS[name]
                conn.execute(f"ALTER TABLE incidents ADD COLUMN {name} {ddl}")
                conn.execute(f"UPDATE incidents SET {name} = {fill}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    had_rules = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'incident_rules'").fetchone() is not None
    conn.executescript(INDEXES)
    if not had_rules:
        conn.execute("INSERT OR IGNORE INTO incident_rules (rule_id, incident_id) SELECT rule_id, id FROM incidents")
        conn.execute("INSERT OR IGNORE INTO incident_rules (rule_id, incident_id) SELECT "
                     "json_extract(r.value, '$.rule_id'), i.id FROM incidents i, json_each(i.doc, '$.rules') r")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TEXT_TABLE,)).fetchone() is None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TEXT_TABLE,)).fetchone() is None:
                conn.execute(CREATE_TEXT)
                rows = [(rowid, " ".join(incident_text.incident_words(Incident.model_validate_json(doc))))
                        for rowid, doc in conn.execute("SELECT rowid, doc FROM incidents")]
                conn.executemany(f"INSERT INTO {TEXT_TABLE} (rowid, words) VALUES (?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def write_side_tables(conn: sqlite3.Connection, incident: Incident) -> None:
    """Keep the rule and word tables of one incident in step with its row (inside the writing transaction)."""
    rowid = conn.execute("SELECT rowid FROM incidents WHERE id = ?", (incident.id,)).fetchone()[0]
    conn.execute(f"DELETE FROM {TEXT_TABLE} WHERE rowid = ?", (rowid,))
    conn.execute(f"INSERT INTO {TEXT_TABLE} (rowid, words) VALUES (?, ?)",
                 (rowid, " ".join(incident_text.incident_words(incident))))
    conn.execute("DELETE FROM incident_rules WHERE incident_id = ?", (incident.id,))
    rules = {incident.rule_id, *(hit.rule_id for hit in incident.rules)}
    conn.executemany("INSERT INTO incident_rules (rule_id, incident_id) VALUES (?, ?)",
                     [(rule, incident.id) for rule in sorted(rules)])


def incident_from_row(doc: str, version: int) -> Incident:
    incident = Incident.model_validate_json(doc)
    incident.version = str(version)  # a fresh object: setting the field beats a validated copy on list pages
    return incident


class ParsedIncidents:
    """Incidents parsed from their stored documents, per process, keyed by ``(id, version)`` and checked against
    the document itself (hash and length), so no other file, or a number used again, can meet an old object.
    Handed out shared: only for callers that say they only read (``IncidentQuery.read_only``)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], tuple[int, int, Incident]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, incident_id: str, version: int, doc: str) -> Incident:
        key, check = (incident_id, version), (hash(doc), len(doc))
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[:2] == check:
                self._items.move_to_end(key)
                return found[2]
        incident = incident_from_row(doc, version)
        with self._lock:
            self._items[key] = (*check, incident)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return incident


PARSED = ParsedIncidents()


def incidents_from_rows(rows: Iterable[tuple[str, int, str]], *, shared: bool) -> list[Incident]:
    """Rows of ``page_query``; ``shared``: from ``PARSED`` (the caller will not change them)."""
    if shared:
        return [PARSED.get(incident_id, version, doc) for incident_id, version, doc in rows]
    return [incident_from_row(doc, version) for _, version, doc in rows]


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000)


def incident_values(incident: Incident) -> tuple[Any, ...]:
    """Values for ``INCIDENT_COLUMNS``, in that order."""
    return (incident.id, incident.agency, incident.state.value, incident.fingerprint, incident.rule_id,
            _ms(incident.last_seen), orjson.dumps(incident.to_doc()).decode(), incident.severity.rank,
            incident.system, incident.assignee, _ms(incident.first_seen), _ms(incident.created),
            STATE_RANK[incident.state], incident.alert_count, *posture_sql.fact_values(incident))


def time_range(column: str, start: Any, end: Any, clauses: list[str], params: list[Any]) -> None:
    """``start <= column < end`` (either bound may be ``None``), on a column of epoch milliseconds."""
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(_ms(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(_ms(end))


def _any_of(column: str, values: list[Any], clauses: list[str], params: list[Any]) -> None:
    clauses.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
    params += values


def incident_where(query: IncidentQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.agencies is not None:
        _any_of("agency", sorted(query.agencies), clauses, params)
    if query.states is not None:
        _any_of("state", sorted(s.value for s in query.states), clauses, params)
    if query.severities is not None:
        _any_of("severity", sorted(s.rank for s in query.severities), clauses, params)
    if query.systems is not None:
        _any_of("system", sorted(query.systems), clauses, params)
    for column, value in (("fingerprint", query.fingerprint), ("assignee", query.assignee)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.rule_id is not None:
        clauses.append("id IN (SELECT incident_id FROM incident_rules WHERE rule_id = ?)")
        params.append(query.rule_id)
    if query.text is not None:
        wanted = incident_text.query_words(query.text)
        if not wanted:
            clauses.append("0")  # no word in the text: nothing can match
        else:
            clauses.append(f"rowid IN (SELECT rowid FROM {TEXT_TABLE} WHERE {TEXT_TABLE} MATCH ?)")
            params.append(" ".join(f'"{word}"*' for word in wanted))
    time_range("last_seen", query.start, query.end, clauses, params)
    if query.after is not None:
        column = SORT_COLUMN[query.sort]
        op = "<" if query.descending else ">"
        clauses.append(f"({column} {op} ? OR ({column} = ? AND id > ?))")
        params += [query.after.value, query.after.value, query.after.incident_id]
    return clauses, params


def incident_order(query: IncidentQuery) -> str:
    return f" ORDER BY {SORT_COLUMN[query.sort]} {'DESC' if query.descending else 'ASC'}, id"


def page_query(query: IncidentQuery) -> tuple[str, list[Any]]:
    """``(id, version, doc)`` of one list page. The page is chosen on the sort key, id and rowid alone and only its
    rows' documents are read: sorting a thousand matches with their documents cost ten times more (0038)."""
    clauses, params = incident_where(query)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    direction = "DESC" if query.descending else "ASC"
    sql = (f"SELECT i.id, i.version, i.doc FROM (SELECT rowid AS r, {SORT_COLUMN[query.sort]} AS k, id AS t "
           f"FROM incidents{where}{incident_order(query)} LIMIT ?) AS page JOIN incidents i ON i.rowid = page.r "
           f"ORDER BY page.k {direction}, page.t")
    return sql, [*params, query.limit]
