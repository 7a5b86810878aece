"""Incident documents and queries on Elasticsearch: the stored form adds a numeric severity for sorting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from canhgac.core.model import Incident, to_utc_iso
from canhgac.storage import incident_text
from canhgac.storage.base import STATE_RANK, IncidentQuery
from canhgac.storage.incident_facts import facts_of

SORT_FIELD = {"last_seen": "last_seen", "first_seen": "first_seen", "created": "created",
              "severity": "severity_rank", "state": "state_rank", "alert_count": "alert_count", "id": "id",
              "agency": "agency"}
#: Fields the stored document adds to the incident, for sorting and free text; removed when read back.
DERIVED_FIELDS = ("severity_rank", "state_rank", "search_words", "facts")


def incident_doc(incident: Incident) -> dict[str, Any]:
    return {**incident.to_doc(), "severity_rank": incident.severity.rank, "state_rank": STATE_RANK[incident.state],
            "search_words": incident_text.incident_words(incident), "facts": facts_of(incident).to_doc()}


def incident_from_hit(hit: dict[str, Any], version: str) -> Incident:
    source = {k: v for k, v in hit["_source"].items() if k not in DERIVED_FIELDS}
    return Incident.model_validate({**source, "version": version})


def incident_filters(query: IncidentQuery) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if query.states is not None:
        filters.append({"terms": {"state": sorted(s.value for s in query.states)}})
    if query.severities is not None:
        filters.append({"terms": {"severity": sorted(s.value for s in query.severities)}})
    if query.systems is not None:
        filters.append({"terms": {"system": sorted(query.systems)}})
    for name, value in (("fingerprint", query.fingerprint), ("assignee", query.assignee)):
        if value is not None:
            filters.append({"term": {name: value}})
    if query.rule_id is not None:
        filters.append({"bool": {"should": [{"term": {"rule_id": query.rule_id}},
                                            {"term": {"rules.rule_id": query.rule_id}}],
                                 "minimum_should_match": 1}})
    if query.text is not None:
        wanted = incident_text.query_words(query.text)
        if not wanted:
            filters.append({"bool": {"must_not": [{"match_all": {}}]}})  # no word in the text: nothing matches
        filters += [{"prefix": {"search_words": word}} for word in wanted]
    filters += time_range("last_seen", query.start, query.end)
    return filters


def time_range(field_name: str, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """``start <= field < end`` as a filter list (empty without bounds)."""
    if start is None and end is None:
        return []
    bounds: dict[str, Any] = {"format": "strict_date_optional_time"}
    if start is not None:
        bounds["gte"] = to_utc_iso(start)
    if end is not None:
        bounds["lt"] = to_utc_iso(end)
    return [{"range": {field_name: bounds}}]


def incident_sort(query: IncidentQuery) -> list[dict[str, Any]]:
    return [{SORT_FIELD[query.sort]: "desc" if query.descending else "asc"}, {"id": "asc"}]
