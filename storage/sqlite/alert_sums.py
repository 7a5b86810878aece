"""``sum_alerts_by`` on SQLite: one GROUP BY over the matching alerts, tags unnested with ``json_each``."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from canhgac.storage.sqlite.incident_sql import SEVERITY_NAME

#: Fields the alerts table keeps in columns: no JSON to read for them.
COLUMNS = {"agency": "a.agency", "rule_id": "a.rule_id", "severity": SEVERITY_NAME.replace("severity", "a.severity", 1)}


def _column(field_name: str) -> str:
    if field_name in COLUMNS:
        return COLUMNS[field_name]
    if field_name == "tags":
        return "tag.value"
    path = field_name.removeprefix("entities.")
    if path != field_name:
        return f"json_extract(a.doc, '$.entities.\"{path}\"')"
    return f"json_extract(a.doc, '$.{field_name}')"


def sum_alerts_by(conn: sqlite3.Connection, where: str, params: list[Any],
                  fields: Sequence[str]) -> dict[tuple[str | None, ...], int]:
    """``where`` filters the alerts table (as the store's other alert queries do); ``fields`` are checked."""
    columns = [_column(name) for name in fields]
    tags = " LEFT JOIN json_each(a.doc, '$.tags') AS tag" if "tags" in fields else ""
    keys = ", ".join(f"{column} AS k{n}" for n, column in enumerate(columns))
    grouped = ", ".join(f"k{n}" for n in range(len(columns)))
    sql = (f"SELECT {keys}, sum(coalesce(json_extract(a.doc, '$.count'), 1)) FROM "
           f"(SELECT doc, agency, rule_id, severity FROM alerts{where}) AS a{tags} GROUP BY {grouped}")
    return {tuple(None if v is None else str(v) for v in row[:-1]): int(row[-1])
            for row in conn.execute(sql, params)}
