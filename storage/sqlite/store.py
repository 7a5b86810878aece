"""The embedded default store: one SQLite file in WAL mode, a connection per thread."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import Alert, AuditEntry, DeadLetter, Event, Incident, Severity
from canhgac.storage.base import (
    AlertQuery,
    EventQuery,
    IncidentField,
    IncidentQuery,
    SeverityBucket,
    Store,
    TimeBucket,
    WindowFeatures,
    check_alert_field,
    check_alert_sum_fields,
)
from canhgac.storage.incident_facts import PostureBreakdown, PostureCounts, PostureRules, WeekCounts
from canhgac.storage.outbox import ChatNotice
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment
from canhgac.storage.sqlite import (
    alert_sums,
    change_marks,
    event_keys,
    event_text,
    incident_sql,
    monitoring_sql,
    posture_sql,
    retention,
)
from canhgac.storage.sqlite.packed import PackedEvents

log = logging.getLogger(__name__)
SCHEMA = (Path(__file__).parent / "schema.sql").read_text()
EVENT_WRITER_CACHE_KIB = 64 * 1024


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso_ms(text: str) -> int:
    return _ms(datetime.fromisoformat(text))


def _json_path(field_name: str) -> str:
    return '$."' + field_name.replace('"', "") + '"'


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn().executescript(SCHEMA)
        self._keyed_by_id = event_keys.migrate(self._conn())
        if self._keyed_by_id:
            log.warning("%s keeps its events in the layout of an older version, whose inserts slow down as it grows; "
                        "`canhgac store upgrade` moves them into the current one (docs/decisions/0053)", self.path)
        incident_sql.migrate(self._conn())
        posture_sql.migrate(self._conn())
        monitoring_sql.migrate(self._conn())
        event_text.migrate(self._conn())
        change_marks.migrate(self._conn())

    def upgrade_events(self) -> int | None:
        """Move an older file's events into the current layout (``event_keys.rebuild``); how many were moved,
        None when there was nothing to do."""
        moved = event_keys.rebuild(self._conn())
        self._keyed_by_id = False
        return moved

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            event_text.register(conn)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        if getattr(self._local, "atomic", False):  # inside atomic(): a savepoint, so a failure undoes this write only
            conn.execute("SAVEPOINT write")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK TO write")
                conn.execute("RELEASE write")
                raise
            conn.execute("RELEASE write")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    atomic_writes = True

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if getattr(self._local, "atomic", False):
            yield
            return
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        self._local.atomic = True
        try:
            yield
        except BaseException:
            self._local.atomic = False
            conn.execute("ROLLBACK")
            raise
        self._local.atomic = False
        conn.execute("COMMIT")

    # events -----------------------------------------------------------------------------------
    def pack_events(self, events: Sequence[Event]) -> PackedEvents:
        return PackedEvents([(e["event.id"], _iso_ms(e["@timestamp"]), e["organization.id"], orjson.dumps(e).decode())
                             for e in events])

    def put_events(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        rows = events.rows if isinstance(events, PackedEvents) else self.pack_events(events).rows
        # The free-text index is not written here: a text search brings it up to date (event_text.catch_up).
        if not getattr(self._local, "writes_events", False):
            # Random event ids spread inserts over the whole id index: a connection that writes events keeps
            # more of it in memory (the default 2 MB made the bare insert a quarter slower at 200k events).
            self._conn().execute(f"PRAGMA cache_size=-{EVENT_WRITER_CACHE_KIB}")
            self._local.writes_events = True
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO events (id, ts, agency, doc) VALUES (?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def incidents_marker(self) -> int:
        return change_marks.incidents_marker(self._conn())

    def catch_up_indexes(self) -> int:
        return event_text.catch_up(self._conn())

    def get_event(self, event_id: str, *, agencies: frozenset[str] | None = None) -> Event | None:
        row = self._conn().execute(event_keys.one(self._keyed_by_id), (event_id,)).fetchone()
        if row is None or (agencies is not None and row[0] not in agencies):
            return None
        return orjson.loads(row[1])

    def _event_from(self, query: EventQuery) -> tuple[str, list[Any]]:
        """``FROM … WHERE …`` for the query: the events table, or the free-text index joined to it."""
        clauses: list[str] = []
        params: list[Any] = []
        source = "events"
        if query.text is not None:
            expression = event_text.match_expression(query.text)
            if expression is not None:
                event_text.catch_up(self._conn())
            if expression is None:
                clauses.append("0")  # no word in the text: nothing can match
            else:
                source = event_text.SOURCE
                clauses.append(f"{event_text.TABLE} MATCH ?")
                params.append(expression)
        if query.agencies is not None:
            clauses.append(f"agency IN ({','.join('?' * len(query.agencies))})" if query.agencies else "0")
            params += sorted(query.agencies)
        incident_sql.time_range("ts", query.start, query.end, clauses, params)
        for name, values in query.filters.items():
            wanted = _both_types(values)
            if not wanted:
                clauses.append("0")
                continue
            if name == "event.id":
                clauses.append(event_keys.among(self._keyed_by_id, len(wanted)))
            else:
                column = "agency" if name == "organization.id" else f"json_extract(doc, '{_json_path(name)}')"
                clauses.append(f"{column} IN ({','.join('?' * len(wanted))})")
            params += wanted
        if query.after is not None:
            op = "<" if query.newest_first else ">"
            at = _iso_ms(query.after.timestamp)
            clauses.append(f"(ts {op} ? OR (ts = ? AND id {op} ?))")
            params += [at, at, query.after.event_id]
        return f" FROM {source}" + ((" WHERE " + " AND ".join(clauses)) if clauses else ""), params

    def search_events(self, query: EventQuery) -> list[Event]:
        source, params = self._event_from(query)
        order = "DESC" if query.newest_first else "ASC"
        sql = f"SELECT doc{source} ORDER BY ts {order}, id {order} LIMIT ?"
        return [orjson.loads(row[0]) for row in self._conn().execute(sql, [*params, query.limit])]

    def count_events(self, query: EventQuery) -> int:
        source, params = self._event_from(query)
        return self._conn().execute(f"SELECT count(*){source}", params).fetchone()[0]

    def count_events_by(self, query: EventQuery, field_name: str, size: int = 10) -> dict[str, int]:
        source, params = self._event_from(query)
        column = "agency" if field_name == "organization.id" else f"json_extract(doc, '{_json_path(field_name)}')"
        sql = (f"SELECT {column} AS value, count(*) AS n{source} GROUP BY value "
               f"HAVING value IS NOT NULL ORDER BY n DESC, value LIMIT ?")
        return {str(value): n for value, n in self._conn().execute(sql, [*params, size])}

    def count_events_over_time(self, query: EventQuery, interval_seconds: int) -> list[TimeBucket]:
        source, params = self._event_from(query)
        width = interval_seconds * 1000
        sql = f"SELECT (ts / {width}) * {width} AS b, count(*){source} GROUP BY b ORDER BY b"
        return [TimeBucket(datetime.fromtimestamp(b / 1000, UTC), n)
                for b, n in self._conn().execute(sql, params)]

    def window_features(self, query: EventQuery, interval_seconds: int) -> list[WindowFeatures]:
        source, params = self._event_from(query)
        width = interval_seconds * 1000
        status = f"json_extract(doc, '{_json_path('http.response.status_code')}')"
        sql = (f"SELECT agency, (ts / {width}) * {width} AS b, count(*), "
               f"sum(CASE WHEN {status} >= 400 THEN 1 ELSE 0 END), "
               f"count(DISTINCT json_extract(doc, '{_json_path('source.ip')}')) "
               f"{source} GROUP BY agency, b ORDER BY agency, b")
        return [WindowFeatures(agency, datetime.fromtimestamp(b / 1000, UTC), n, errors, sources)
                for agency, b, n, errors, sources in self._conn().execute(sql, params)]

    # dead letters -----------------------------------------------------------------------------
    def put_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        rows = [(d.id, _ms(d.received), d.agency, d.path, orjson.dumps(d.to_doc()).decode()) for d in letters]
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO dead_letters (id, received, agency, path, doc) "
                             "VALUES (?, ?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def search_dead_letters(self, *, agencies: frozenset[str] | None = None,
                            path: str | None = None, limit: int = 100) -> list[DeadLetter]:
        clauses, params = _scope("agency", agencies)
        if path is not None:
            clauses.append("path = ?")
            params.append(path)
        sql = f"SELECT doc FROM dead_letters{_where(clauses)} ORDER BY received DESC, id LIMIT ?"
        return [DeadLetter.model_validate_json(r[0]) for r in self._conn().execute(sql, [*params, limit])]

    # alerts -----------------------------------------------------------------------------------
    def put_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        new: list[Alert] = []
        with self._write() as conn:
            for alert in alerts:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO alerts (id, agency, rule_id, severity, last_seen, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (alert.id, alert.agency, alert.rule_id, alert.severity.rank, _ms(alert.last_seen),
                     orjson.dumps(alert.to_doc()).decode()))
                if cur.rowcount:
                    new.append(alert)
        return new

    def _alert_where(self, query: AlertQuery, *, paged: bool = True) -> tuple[list[str], list[Any]]:
        clauses, params = _scope("agency", query.agencies)
        incident_sql.time_range("last_seen", query.start, query.end, clauses, params)
        if query.rule_id is not None:
            clauses.append("rule_id = ?")
            params.append(query.rule_id)
        if query.min_severity is not None:
            clauses.append("severity >= ?")
            params.append(query.min_severity.rank)
        if paged and query.after is not None:
            at = _ms(query.after.last_seen)
            clauses.append("(last_seen < ? OR (last_seen = ? AND id > ?))")
            params += [at, at, query.after.alert_id]
        return clauses, params

    def search_alerts(self, query: AlertQuery) -> list[Alert]:
        clauses, params = self._alert_where(query)
        sql = f"SELECT doc FROM alerts{_where(clauses)} ORDER BY last_seen DESC, id LIMIT ?"
        return [Alert.model_validate_json(r[0]) for r in self._conn().execute(sql, [*params, query.limit])]

    def count_alerts_by(self, query: AlertQuery, field_name: str, size: int = 10) -> dict[str, int]:
        check_alert_field(field_name)
        clauses, params = self._alert_where(query, paged=False)
        if field_name in ("rule_id", "agency"):
            column = field_name
        elif field_name == "severity":
            column = incident_sql.SEVERITY_NAME
        elif field_name == "system":
            column = "json_extract(doc, '$.system')"
        else:
            column = f"json_extract(doc, '$.entities.{_json_path(field_name.removeprefix('entities.'))[2:]}')"
        sql = (f"SELECT {column} AS value, count(*) AS n FROM alerts{_where(clauses)} GROUP BY value "
               f"HAVING value IS NOT NULL ORDER BY n DESC, value LIMIT ?")
        return {str(value): n for value, n in self._conn().execute(sql, [*params, size])}

    def sum_alerts_by(self, query: AlertQuery, fields: Sequence[str]) -> dict[tuple[str | None, ...], int]:
        clauses, params = self._alert_where(query, paged=False)
        return alert_sums.sum_alerts_by(self._conn(), _where(clauses), params, check_alert_sum_fields(fields))

    def count_alerts_over_time_by_severity(self, query: AlertQuery, interval_seconds: int) -> list[SeverityBucket]:
        clauses, params = self._alert_where(query, paged=False)
        width = interval_seconds * 1000
        sql = (f"SELECT (last_seen / {width}) * {width} AS b, severity, count(*) FROM alerts{_where(clauses)} "
               "GROUP BY b, severity ORDER BY b")
        buckets: dict[int, dict[Severity, int]] = {}
        ranks = {s.rank: s for s in Severity}
        for start, rank, n in self._conn().execute(sql, params):
            buckets.setdefault(start, {})[ranks[rank]] = n
        return [SeverityBucket(datetime.fromtimestamp(b / 1000, UTC), counts) for b, counts in buckets.items()]

    def get_alerts(self, alert_ids: Sequence[str], *, agencies: frozenset[str] | None = None) -> list[Alert]:
        wanted = sorted(set(alert_ids))
        found: list[Alert] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            clauses, params = _scope("agency", agencies)
            clauses.append(f"id IN ({','.join('?' * len(chunk))})")
            sql = f"SELECT doc FROM alerts{_where(clauses)}"
            found += [Alert.model_validate_json(r[0]) for r in self._conn().execute(sql, [*params, *chunk])]
        return found

    # incidents --------------------------------------------------------------------------------
    def create_incident(self, incident: Incident) -> Incident:
        try:
            with self._write() as conn:
                columns = ", ".join(incident_sql.INCIDENT_COLUMNS)
                marks = ", ".join("?" * len(incident_sql.INCIDENT_COLUMNS))
                conn.execute(f"INSERT INTO incidents ({columns}, version) VALUES ({marks}, 1)",
                             incident_sql.incident_values(incident))
                incident_sql.write_side_tables(conn, incident)
        except sqlite3.IntegrityError:
            raise VersionConflict(incident.id, "new", "exists") from None
        return incident.model_copy(update={"version": "1"})

    def get_incident(self, incident_id: str, *, agencies: frozenset[str] | None = None) -> Incident | None:
        row = self._conn().execute("SELECT agency, version, doc FROM incidents WHERE id = ?",
                                   (incident_id,)).fetchone()
        if row is None or (agencies is not None and row[0] not in agencies):
            return None
        return incident_sql.incident_from_row(row[2], row[1])

    def update_incident(self, incident: Incident, *, expected_version: str) -> Incident:
        with self._write() as conn:
            row = conn.execute("SELECT version FROM incidents WHERE id = ?", (incident.id,)).fetchone()
            if row is None:
                raise NotFound(f"incident {incident.id} does not exist")
            if str(row[0]) != expected_version:
                raise VersionConflict(incident.id, expected_version, str(row[0]))
            assignments = ", ".join(f"{c}=?" for c in incident_sql.INCIDENT_COLUMNS[1:])
            conn.execute(f"UPDATE incidents SET {assignments}, version=version+1 WHERE id=?",
                         (*incident_sql.incident_values(incident)[1:], incident.id))
            incident_sql.write_side_tables(conn, incident)
            return incident.model_copy(update={"version": str(row[0] + 1)})

    def search_incidents(self, query: IncidentQuery) -> list[Incident]:
        sql, params = incident_sql.page_query(query)
        return incident_sql.incidents_from_rows(self._conn().execute(sql, params), shared=query.read_only)

    def count_incidents(self, query: IncidentQuery) -> int:
        clauses, params = incident_sql.incident_where(replace(query, after=None))
        return self._conn().execute(f"SELECT count(*) FROM incidents{_where(clauses)}", params).fetchone()[0]

    def count_incidents_by(self, query: IncidentQuery, field_name: IncidentField, size: int = 10) -> dict[str, int]:
        column = incident_sql.GROUP_COLUMN[field_name]
        clauses, params = incident_sql.incident_where(replace(query, after=None))
        sql = (f"SELECT {column} AS value, count(*) AS n FROM incidents{_where(clauses)} GROUP BY value "
               "HAVING value IS NOT NULL ORDER BY n DESC, value LIMIT ?")
        return {str(value): n for value, n in self._conn().execute(sql, [*params, size])}

    def posture_counts(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                       rules: PostureRules) -> dict[str, PostureCounts]:
        return posture_sql.posture_counts(self._conn(), agencies, since, now, rules)

    def posture_breakdown(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          top: int) -> PostureBreakdown:
        return posture_sql.posture_breakdown(self._conn(), agencies, since, now, top)

    def posture_weeks(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime) -> list[WeekCounts]:
        return posture_sql.posture_weeks(self._conn(), agencies, since, now)

    def overdue_incidents(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          rules: PostureRules, limit: int = 1000) -> list[Incident]:
        rows = posture_sql.overdue_rows(self._conn(), agencies, since, now, rules, limit)
        return incident_sql.incidents_from_rows(rows, shared=False)

    def period_incidents(self, agencies: frozenset[str] | None, *, moment: PeriodMoment, start: datetime,
                         end: datetime, limit: int) -> PeriodIncidents:
        found, rows = monitoring_sql.period_incidents(self._conn(), agencies, moment, start, end, limit)
        found.top = incident_sql.incidents_from_rows(rows, shared=False)
        return found

    def next_sequence(self, name: str) -> int:
        with self._write() as conn:
            conn.execute("INSERT INTO sequences (name, value) VALUES (?, 1) "
                         "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))
            return conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()[0]

    # audit trail ------------------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        try:
            with self._write() as conn:
                conn.execute("INSERT INTO audit (id, at, object_type, object_id, agency, doc) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (entry.id, _ms(entry.at), entry.object_type, entry.object_id, entry.agency,
                              orjson.dumps(entry.to_doc()).decode()))
        except sqlite3.IntegrityError:
            raise VersionConflict(entry.id, "new", "exists") from None

    def list_audit(self, *, object_type: str | None = None, object_id: str | None = None,
                   agencies: frozenset[str] | None = None, limit: int = 100) -> list[AuditEntry]:
        clauses, params = _scope("agency", agencies)
        for column, value in (("object_type", object_type), ("object_id", object_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT doc FROM audit{_where(clauses)} ORDER BY seq LIMIT ?"
        return [AuditEntry.model_validate_json(r[0]) for r in self._conn().execute(sql, [*params, limit])]

    # records ----------------------------------------------------------------------------------
    def _put_record(self, kind: str, record_id: str, agency: str | None, doc: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO records (kind, id, agency, doc) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) "
                         "DO UPDATE SET agency = excluded.agency, doc = excluded.doc",
                         (kind, record_id, agency, orjson.dumps(doc).decode()))

    def _get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM records WHERE kind = ? AND id = ?", (kind, record_id)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def _list_records(self, kind: str, *, agencies: frozenset[str] | None, limit: int) -> list[dict[str, Any]]:
        clauses, params = _scope("agency", agencies)
        sql = f"SELECT doc FROM records{_where(['kind = ?', *clauses])} ORDER BY id LIMIT ?"
        return [orjson.loads(r[0]) for r in self._conn().execute(sql, [kind, *params, limit])]

    # small state ------------------------------------------------------------------------------
    def get_state(self, key: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def put_state(self, key: str, value: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO state (key, doc) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET doc = "
                         "excluded.doc", (key, orjson.dumps(value).decode()))

    def list_state(self, prefix: str, *, limit: int = 1000) -> dict[str, dict[str, Any]]:
        rows = self._conn().execute("SELECT key, doc FROM state WHERE substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
                                    (len(prefix), prefix, limit))
        return {key: orjson.loads(doc) for key, doc in rows}

    # chat outbox ------------------------------------------------------------------------------
    def put_chat_notices(self, notices: Sequence[ChatNotice]) -> int:
        rows = [(n.id, n.channel, int(n.created.timestamp() * 1_000_000), orjson.dumps(n.to_doc()).decode())
                for n in notices]
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO chat_outbox (id, channel, created, doc) VALUES (?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def list_chat_notices(self, *, channel: str | None = None, limit: int = 1000) -> list[ChatNotice]:
        where, params = ("WHERE channel = ? ", [channel]) if channel is not None else ("", [])
        rows = self._conn().execute(f"SELECT doc FROM chat_outbox {where}ORDER BY created, id LIMIT ?",
                                    [*params, limit])
        return [ChatNotice.model_validate_json(r[0]) for r in rows]

    def update_chat_notice(self, notice: ChatNotice) -> None:
        with self._write() as conn:
            conn.execute("UPDATE chat_outbox SET doc = ? WHERE id = ?", (orjson.dumps(notice.to_doc()).decode(),
                                                                         notice.id))

    def delete_chat_notice(self, notice_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM chat_outbox WHERE id = ?", (notice_id,))

    def delete_expired(self, before: datetime) -> int:
        with self._write() as conn:
            return retention.delete_before(conn, _ms(before))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _scope(column: str, agencies: frozenset[str] | None) -> tuple[list[str], list[Any]]:
    if agencies is None:
        return [], []
    if not agencies:
        return ["0"], []
    return [f"{column} IN ({','.join('?' * len(agencies))})"], sorted(agencies)


def _where(clauses: list[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _both_types(values: Sequence[str | int]) -> list[Any]:
    """JSON numbers and strings differ in SQLite; accept ``"404"`` for a stored ``404`` and back."""
    out: list[Any] = []
    for value in values:
        out.append(value)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            out.append(int(value))
        elif isinstance(value, int):
            out.append(str(value))
    return out
