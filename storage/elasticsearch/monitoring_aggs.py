"""The monitoring report's incidents on Elasticsearch (``period_incidents``): one search per moment, whose hits
are the bounded page and whose aggregations (terms over the facts and the keyword fields) are the counts; the
requests do not grow with the incidents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from canhgac.core.model import Incident, IncidentState, Severity
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment, period_ms

Search = Callable[..., Any]
#: Far more agencies than one subtree holds, and below the default ``search.max_buckets``.
AGENCY_BUCKETS = 10_000
AGGS: dict[str, Any] = {
    "severity": {"terms": {"field": "severity", "size": len(Severity)}},
    "state": {"terms": {"field": "state", "size": len(IncidentState)}},
    "category": {"terms": {"field": "facts.categories", "size": 100}},
    "agency": {"terms": {"field": "agency", "size": AGENCY_BUCKETS}},
}


def period_query(agencies: frozenset[str] | None, moment: PeriodMoment, start: datetime,
                 end: datetime) -> dict[str, Any]:
    low, high = period_ms(start, end)
    filters: list[dict[str, Any]] = [{"range": {f"facts.{moment}": {"gte": low, "lt": high}}}]
    if agencies is not None:
        filters.append({"terms": {"agency": sorted(agencies)}})
    return {"bool": {"filter": filters}}


def period_incidents(search: Search, parse: Callable[[dict[str, Any]], Incident], agencies: frozenset[str] | None,
                     moment: PeriodMoment, start: datetime, end: datetime, limit: int) -> PeriodIncidents:
    """``search(query=, size=, sort=, aggs=)`` answers one search of the incidents index."""
    response = search(query=period_query(agencies, moment, start, end), size=limit, aggs=AGGS,
                      sort=[{"severity_rank": "desc"}, {f"facts.{moment}": "asc"}, {"id": "asc"}])
    found = response.get("aggregations", {})

    def buckets(name: str) -> dict[str, int]:
        return {str(b["key"]): int(b["doc_count"]) for b in found.get(name, {}).get("buckets", [])}

    out = PeriodIncidents(by_category=buckets("category"), by_agency=buckets("agency"))
    out.total = int(response["hits"]["total"]["value"])
    for name, n in buckets("severity").items():
        out.by_severity[Severity(name)] += n
    for name, n in buckets("state").items():
        out.by_state[IncidentState(name)] += n
    out.top = [parse(hit) for hit in response["hits"]["hits"]]
    return out
