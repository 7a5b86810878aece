"""Posture aggregations on SQLite: the incident facts (``incident_facts``) as columns, filled for older files on
open, and one GROUP BY per figure set over a covering index, so no incident document is read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from canhgac.core.model import OPEN_STATES, Incident, Severity
from canhgac.storage.incident_facts import (
    DAY_MS,
    FACTS_VERSION,
    VIETNAM_OFFSET_MS,
    WEEK_MS,
    WEEK_OFFSET_MS,
    PostureBreakdown,
    PostureCounts,
    PostureRules,
    WeekCounts,
    detected_from,
    due_by,
    facts_of,
    met_below,
    vietnam_day,
    week_moments,
)

#: Fact columns, in the order ``fact_values`` gives them.
FACT_COLUMNS = {
    "f_detected": "INTEGER", "f_closed": "INTEGER", "f_ack": "INTEGER", "f_resolve": "INTEGER",
    "f_notice": "INTEGER", "f_breach_after": "INTEGER", "f_serious_after": "INTEGER", "f_breach": "INTEGER",
    "f_categories": "TEXT", "f_resolution": "TEXT", "f_override": "INTEGER", "f_merged": "INTEGER",
    "f_v": "INTEGER", "f_spans": "TEXT",
}
POSTURE_INDEX = ("CREATE INDEX IF NOT EXISTS incidents_posture ON incidents (f_merged, agency, state, last_seen, "
                 "severity, f_detected, f_closed, f_ack, f_resolve, f_notice, f_breach_after, f_serious_after, "
                 "f_breach, f_resolution, f_override, system, f_categories, rule_id, f_spans)")


def fact_values(incident: Incident) -> tuple[Any, ...]:
    f = facts_of(incident)
    return (f.detected, f.closed, f.ack_after, f.resolve_after, f.notice_after, f.breach_after, f.serious_after,
            int(f.breach), orjson.dumps(f.categories).decode(), f.resolution,
            None if f.override is None else int(f.override), int(f.merged), f.v, orjson.dumps(f.closed_spans).decode())


def migrate(conn: sqlite3.Connection) -> None:
    """Add the fact columns to an older file (recomputing every row when one was added) and recompute rows whose
    facts are missing or of an older version."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(incidents)")}
    complete = all(name in present for name in FACT_COLUMNS)
    if not complete or conn.execute("SELECT 1 FROM incidents WHERE f_v IS NULL OR f_v < ? LIMIT 1",
                                    (FACTS_VERSION,)).fetchone():
        conn.execute("BEGIN IMMEDIATE")
        try:
            present = {row[1] for row in conn.execute("PRAGMA table_info(incidents)")}
            complete = all(name in present for name in FACT_COLUMNS)
            for name, ddl in FACT_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE incidents ADD COLUMN {name} {ddl}")
            assignments = ", ".join(f"{name} = ?" for name in FACT_COLUMNS)
            rows = conn.execute("SELECT rowid, doc FROM incidents WHERE ? OR f_v IS NULL OR f_v < ?",
                                (int(not complete), FACTS_VERSION)).fetchall()
            conn.executemany(f"UPDATE incidents SET {assignments} WHERE rowid = ?",
                             [(*fact_values(Incident.model_validate_json(doc)), rowid) for rowid, doc in rows])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    conn.execute(POSTURE_INDEX)


class _Sql:
    """Named parameters, so that an expression can be used twice in one statement."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def any_of(self, column: str, values: Iterable[Any]) -> str:
        names = []
        for value in sorted(values):
            name = f"p{len(self.params)}"
            self.params[name] = value
            names.append(f":{name}")
        return f"{column} IN ({', '.join(names)})" if names else "0"

    def value(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _by_severity(sql: _Sql, values: dict[Severity, int]) -> str:
    return "CASE severity " + " ".join(f"WHEN {s.rank} THEN {sql.value(v)}" for s, v in values.items()) + " END"


def _base(sql: _Sql, agencies: frozenset[str] | None, since: datetime) -> str:
    clauses = ["f_merged = 0",
               f"({sql.any_of('state', (s.value for s in OPEN_STATES))} OR last_seen >= "
               f"{sql.value(int(since.timestamp() * 1000))})"]
    if agencies is not None:
        clauses.append(sql.any_of("agency", agencies))
    return " AND ".join(clauses)


class _Clocks:
    """The clock conditions of ``rules`` at ``now`` as SQL expressions over the fact columns."""

    def __init__(self, sql: _Sql, rules: PostureRules, now: datetime) -> None:
        systems = sql.any_of("system", rules.serious_systems)
        self.serious = (f"coalesce(f_override = 1 OR (f_override IS NULL AND {systems} "
                        f"AND EXISTS (SELECT 1 FROM json_each(f_categories) WHERE "
                        f"{sql.any_of('value', rules.serious_categories)})), 0)")
        ack_lt = _by_severity(sql, {s: met_below(d) for s, d in rules.acknowledge.items()})
        resolve_lt = _by_severity(sql, {s: met_below(d) for s, d in rules.resolve.items()})
        ack_by = _by_severity(sql, {s: due_by(now, d) for s, d in rules.acknowledge.items()})
        resolve_by = _by_severity(sql, {s: due_by(now, d) for s, d in rules.resolve.items()})
        exempt = sql.any_of("f_resolution", rules.exempt_resolutions)
        self.overdue = {
            "acknowledge": f"(f_ack IS NULL AND f_detected <= {ack_by})",
            "resolve": f"(f_resolve IS NULL AND f_detected <= {resolve_by})",
            "incident_notice": f"((f_resolution IS NULL OR NOT {exempt}) AND f_notice IS NULL AND "
                               f"f_detected <= {sql.value(due_by(now, rules.incident_notice))})",
            "breach_notice": f"(f_breach = 1 AND f_breach_after IS NULL AND "
                             f"f_detected <= {sql.value(due_by(now, rules.breach_notice))})",
            "serious_initial_report": f"({self.serious} AND f_serious_after IS NULL AND "
                                      f"f_detected <= {sql.value(due_by(now, rules.serious_report))})",
        }
        #: Done in time, and done late (0, not NULL, while not done).
        self.met = [f"coalesce(f_ack < {ack_lt}, 0)", f"coalesce(f_resolve < {resolve_lt}, 0)"]
        self.late = [f"coalesce(f_ack >= {ack_lt}, 0)", f"coalesce(f_resolve >= {resolve_lt}, 0)"]

    def any_overdue(self) -> str:
        return "(" + " OR ".join(self.overdue.values()) + ")"


def posture_counts(conn: sqlite3.Connection, agencies: frozenset[str] | None, since: datetime, now: datetime,
                   rules: PostureRules) -> dict[str, PostureCounts]:
    sql = _Sql()
    where = _base(sql, agencies, since)
    clocks = _Clocks(sql, rules, now)
    is_open = sql.any_of("state", (s.value for s in OPEN_STATES))
    recent = f"f_detected >= {sql.value(detected_from(since))}"
    columns = [f"sum({is_open} AND severity = {s.rank})" for s in Severity]
    columns += [f"sum(state = {sql.value(s.value)})" for s in OPEN_STATES]
    columns.append(f"sum({is_open} AND {clocks.serious})")
    columns += [f"sum({condition})" for condition in clocks.overdue.values()]
    columns.append(f"sum(CASE WHEN {recent} THEN {clocks.met[0]} + {clocks.met[1]} ELSE 0 END)")
    missed = [f"({clocks.overdue['acknowledge']} OR {clocks.late[0]})",
              f"({clocks.overdue['resolve']} OR {clocks.late[1]})"]
    columns.append(f"sum(CASE WHEN {recent} THEN {missed[0]} + {missed[1]} ELSE 0 END)")
    columns += [f"coalesce(sum(CASE WHEN {recent} THEN f_ack END), 0)", f"count(CASE WHEN {recent} THEN f_ack END)",
                f"coalesce(sum(CASE WHEN {recent} THEN f_resolve END), 0)",
                f"count(CASE WHEN {recent} THEN f_resolve END)"]
    statement = f"SELECT agency, {', '.join(columns)} FROM incidents WHERE {where} GROUP BY agency"
    out: dict[str, PostureCounts] = {}
    for agency, *n in conn.execute(statement, sql.params):
        values = [int(v or 0) for v in n]
        severities, states = len(Severity), len(OPEN_STATES)
        counts = PostureCounts(
            open_by_severity=dict(zip(Severity, values[:severities], strict=True)),
            open_by_state=dict(zip(OPEN_STATES, values[severities:severities + states], strict=True)))
        rest = values[severities + states:]
        counts.serious_open = rest[0]
        counts.overdue = dict(zip(clocks.overdue, rest[1:6], strict=True))
        (counts.sla_met, counts.sla_missed, counts.ack_total_ms, counts.ack_count, counts.resolve_total_ms,
         counts.resolve_count) = rest[6:12]
        out[agency] = counts
    return out


def posture_breakdown(conn: sqlite3.Connection, agencies: frozenset[str] | None, since: datetime, now: datetime,
                      top: int) -> PostureBreakdown:
    sql = _Sql()
    where = _base(sql, agencies, since)
    first = (detected_from(since) + VIETNAM_OFFSET_MS) // DAY_MS * DAY_MS - VIETNAM_OFFSET_MS
    day = f"(({{0}} + {VIETNAM_OFFSET_MS}) / {DAY_MS}) * {DAY_MS}"
    out = PostureBreakdown()
    for column, target in (("f_detected", out.opened_by_day), ("f_closed", out.closed_by_day)):
        statement = (f"SELECT {day.format(column)} AS d, count(*) FROM incidents WHERE {where} AND "
                     f"{column} >= {sql.value(first)} GROUP BY d")
        target.update({vietnam_day(d): n for d, n in conn.execute(statement, sql.params)})
    recent = f"f_detected >= {sql.value(detected_from(since))}"
    for column, target in (("system", out.systems), ("rule_id", out.rules)):
        statement = (f"SELECT {column} AS v, count(*) AS n FROM incidents WHERE {where} AND {recent} AND "
                     f"{column} IS NOT NULL AND {column} != '' GROUP BY v ORDER BY n DESC, v LIMIT {int(top)}")
        target.update(dict(conn.execute(statement, sql.params).fetchall()))
    return out


def overdue_rows(conn: sqlite3.Connection, agencies: frozenset[str] | None, since: datetime, now: datetime,
                 rules: PostureRules, limit: int) -> list[tuple[str, int, str]]:
    sql = _Sql()
    where = _base(sql, agencies, since)
    condition = _Clocks(sql, rules, now).any_overdue()
    statement = (f"SELECT id, version, doc FROM incidents WHERE rowid IN (SELECT rowid FROM incidents WHERE "
                 f"{where} AND {condition}) ORDER BY f_detected, id LIMIT {int(limit)}")
    return conn.execute(statement, sql.params).fetchall()


def posture_weeks(conn: sqlite3.Connection, agencies: frozenset[str] | None, since: datetime,
                  now: datetime) -> list[WeekCounts]:
    weeks = week_moments(since, now)
    sql = _Sql()
    where = _base(sql, agencies, since)
    bucket = f"((f_detected - {WEEK_OFFSET_MS}) / {WEEK_MS})"
    statement = (f"SELECT {bucket} AS w, count(*), coalesce(sum(f_ack), 0), count(f_ack), "
                 f"coalesce(sum(f_resolve), 0), count(f_resolve) FROM incidents WHERE {where} AND "
                 f"f_detected >= {sql.value(detected_from(weeks[0][1]))} AND "
                 f"f_detected < {sql.value(detected_from(weeks[-1][2]))} GROUP BY w")
    out = {start: WeekCounts(start) for start, _, _ in weeks}
    for w, opened, ack_total, ack_count, resolve_total, resolve_count in conn.execute(statement, sql.params):
        week = out.get(vietnam_day(w * WEEK_MS + WEEK_OFFSET_MS))
        if week is not None:
            week.opened, week.ack_total_ms, week.ack_count = opened, ack_total, ack_count
            week.resolve_total_ms, week.resolve_count = resolve_total, resolve_count
    columns = []
    for _, _, end in weeks:
        moment = sql.value(detected_from(min(end, now)))
        columns.append(f"coalesce(sum(f_detected < {moment} AND NOT (f_spans != '[]' AND EXISTS (SELECT 1 FROM "
                       f"json_each(f_spans) AS s WHERE json_extract(s.value, '$[0]') < {moment} AND "
                       f"coalesce(json_extract(s.value, '$[1]') >= {moment}, 1)))), 0)")
    row = conn.execute(f"SELECT {', '.join(columns)} FROM incidents WHERE {where}", sql.params).fetchone()
    for (start, _, _), n in zip(weeks, row, strict=True):
        out[start].open_at_end = n
    return list(out.values())
