"""The monitoring report's incidents on SQLite (``period_incidents``): one GROUP BY and one over the categories,
on an index per moment (detection, closing) that holds every column they read, and one page of documents."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from canhgac.core.model import IncidentState, Severity
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment, period_ms

COLUMN: dict[PeriodMoment, str] = {"detected": "f_detected", "closed": "f_closed"}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS incidents_detected_period ON incidents "
    "(f_detected, agency, severity, state, f_categories, id)",
    "CREATE INDEX IF NOT EXISTS incidents_closed_period ON incidents "
    "(f_closed, agency, severity, state, f_categories, id) WHERE f_closed IS NOT NULL",
)
SEVERITY_OF_RANK = {s.rank: s for s in Severity}
STATE_OF = {s.value: s for s in IncidentState}


def migrate(conn: sqlite3.Connection) -> None:
    """After ``posture_sql.migrate``, which adds the fact columns."""
    for statement in INDEXES:
        conn.execute(statement)


def _where(moment: PeriodMoment, agencies: frozenset[str] | None, start: datetime,
           end: datetime) -> tuple[str, list[Any]]:
    column = COLUMN[moment]
    low, high = period_ms(start, end)
    clauses, params = [f"{column} >= ?", f"{column} < ?"], [low, high]
    if agencies is not None:
        clauses.append(f"agency IN ({','.join('?' * len(agencies))})")
        params += sorted(agencies)
    return " AND ".join(clauses), params


def period_incidents(conn: sqlite3.Connection, agencies: frozenset[str] | None, moment: PeriodMoment,
                     start: datetime, end: datetime, limit: int) -> tuple[PeriodIncidents, list[tuple[str, int, str]]]:
    """The counts, and the ``(id, version, doc)`` rows of the page the caller parses."""
    if agencies is not None and not agencies:
        return PeriodIncidents(), []
    where, params = _where(moment, agencies, start, end)
    index = f"incidents_{moment}_period"
    out = PeriodIncidents()
    for agency, rank, state, n in conn.execute(
            f"SELECT agency, severity, state, count(*) FROM incidents INDEXED BY {index} WHERE {where} "
            "GROUP BY agency, severity, state", params):
        out.total += n
        out.by_agency[agency] = out.by_agency.get(agency, 0) + n
        severity = SEVERITY_OF_RANK.get(rank)
        if severity is not None:
            out.by_severity[severity] += n
        out.by_state[STATE_OF[state]] += n
    out.by_category = dict(conn.execute(
        f"SELECT c.value, count(DISTINCT incidents.id) FROM incidents INDEXED BY {index}, "
        f"json_each(incidents.f_categories) AS c "
        f"WHERE {where} AND f_categories != '[]' GROUP BY c.value", params).fetchall())
    column = COLUMN[moment]
    rows = conn.execute(
        f"SELECT i.id, i.version, i.doc FROM (SELECT rowid AS r, severity AS s, {column} AS m, id AS t FROM "
        f"incidents INDEXED BY {index} WHERE {where} ORDER BY severity DESC, {column}, id LIMIT ?) AS page "
        "JOIN incidents i ON i.rowid = page.r ORDER BY page.s DESC, page.m, page.t", [*params, limit]).fetchall()
    return out, rows
