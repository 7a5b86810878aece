"""Index templates with explicit mappings: strings are ``keyword`` unless said otherwise, addresses are
``ip``, times are ``date``, counters are ``long``. Dynamic mapping would make strings ``text`` and miss IPs."""

from __future__ import annotations

import re
from typing import Any

from canhgac.core.model import Event

STRINGS_AS_KEYWORDS = [{"strings": {"match_mapping_type": "string",
                                    "mapping": {"type": "keyword", "ignore_above": 8191}}}]
UNINDEXED = {"type": "object", "enabled": False}
UNINDEXED_TEXT = {"type": "text", "index": False}
#: Parts of an incident that are read back whole and never searched.
INCIDENT_UNINDEXED_OBJECTS = ("history", "comments", "tasks", "observables", "filings", "breach",
                              "serious_override", "entities")
INCIDENT_UNINDEXED_TEXT = ("description", "handling_result", "recommendations")

EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "@timestamp": {"type": "date"},
    "event.id": {"type": "keyword"},
    "event.original": {"type": "text"},
    "event.created": {"type": "date"},
    "event.ingested": {"type": "date"},
    "event.duration": {"type": "long"},
    "source.ip": {"type": "ip"},
    "source.port": {"type": "long"},
    "client.ip": {"type": "ip"},
    "destination.ip": {"type": "ip"},
    "destination.port": {"type": "long"},
    "host.ip": {"type": "ip"},
    "http.response.status_code": {"type": "long"},
    "http.response.body.bytes": {"type": "long"},
    "http.request.body.bytes": {"type": "long"},
    "log.offset": {"type": "long"},
    "organization.id": {"type": "keyword"},
    "url.original": {"type": "keyword", "ignore_above": 32766},
    "user_agent.original": {"type": "keyword", "ignore_above": 8191},
}

#: Fields the saved dashboards group by, mapped explicitly (dynamic mapping would make them keywords too, but
#: a dashboard must not depend on a document having arrived first). Kept apart from ``EVENT_FIELDS``, whose
#: types also decide how the API types a filter value.
EVENT_KEYWORDS: dict[str, dict[str, Any]] = {
    name: {"type": "keyword", "ignore_above": 8191}
    for name in ("event.dataset", "event.module", "event.action", "event.outcome", "event.category", "user.name",
                 "url.path", "http.request.method", "source.geo.country_iso_code")}
ALERT_KEYWORDS: dict[str, dict[str, Any]] = {
    name: {"type": "keyword"} for name in ("id", "rule_id", "rule_title", "severity", "agency", "system", "tags",
                                           "entities.source.ip", "entities.user.name", "entities.client.ip")}
INCIDENT_KEYWORDS: dict[str, dict[str, Any]] = {
    name: {"type": "keyword"} for name in ("id", "state", "severity", "agency", "system", "rule_id", "assignee")}

#: The posture facts of an incident (``storage/incident_facts.py``, decision 0046).
INCIDENT_FACTS: dict[str, dict[str, Any]] = {
    **{f"facts.{name}": {"type": "long"} for name in ("detected", "closed", "ack_after", "resolve_after",
                                                       "notice_after", "breach_after", "serious_after", "v")},
    **{f"facts.{name}": {"type": "boolean"} for name in ("breach", "override", "merged")},
    **{f"facts.{name}": {"type": "keyword"} for name in ("categories", "resolution")},
    "facts.closed_spans": {"type": "long_range"},
}


def nest(flat: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"source.ip": m}`` → ``{"source": {"properties": {"ip": m}}}``: the form every server accepts."""
    properties: dict[str, Any] = {}
    for dotted, mapping in flat.items():
        parts = dotted.split(".")
        node = properties
        for part in parts[:-1]:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[parts[-1]] = mapping
    return properties


def _mappings(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"dynamic_templates": STRINGS_AS_KEYWORDS, "properties": nest(fields)}


#: Index families written in place (updated, not append-only): plain indices, one each.
IN_PLACE_FAMILIES = ("alerts", "incidents", "records", "audit", "deadletters", "state", "outbox")
_NAME_UNSAFE = re.compile(r"[^a-z0-9_.]+")


def events_pattern(prefix: str) -> str:
    """Every event stream (and the monthly indices of decision 0002 written before them)."""
    return f"{prefix}-events-*"


def event_target(prefix: str, event: Event) -> str:
    """The data stream (or, on a server without data streams, the index) that holds ``event``.

    One per dataset and month (``canhgac-events-nginx.access-2026.05``): the month is a function of the line,
    so a repeated line meets its first copy and is refused as a duplicate (``op_type: create``)."""
    stamp = event["@timestamp"]
    dataset = _NAME_UNSAFE.sub("_", str(event.get("event.dataset") or "generic").lower()).strip("_.")
    return f"{prefix}-events-{dataset or 'generic'}-{stamp[0:4]}.{stamp[5:7]}"


def family_mappings() -> dict[str, dict[str, Any]]:
    """Index family → mappings (the component template of that family)."""
    dates = {"first_seen": {"type": "date"}, "last_seen": {"type": "date"}, "created": {"type": "date"}}
    return {
        "events": _mappings({**EVENT_FIELDS, **EVENT_KEYWORDS}),
        "alerts": _mappings({**dates, **ALERT_KEYWORDS, "count": {"type": "long"}, "details": UNINDEXED}),
        "incidents": _mappings({**dates, **INCIDENT_KEYWORDS, "updated": {"type": "date"},
                                "alert_count": {"type": "long"},
                                "detected_at": {"type": "date"}, "severity_rank": {"type": "long"},
                                "state_rank": {"type": "long"}, "search_words": {"type": "keyword"},
                                **INCIDENT_FACTS,
                                "rules": {"properties": {**dates, "count": {"type": "long"},
                                                         "alerts": {"type": "long"}}},
                                **{name: UNINDEXED for name in INCIDENT_UNINDEXED_OBJECTS},
                                **{name: UNINDEXED_TEXT for name in INCIDENT_UNINDEXED_TEXT}}),
        "records": _mappings({"doc": UNINDEXED}),
        "audit": _mappings({"at": {"type": "date"}, "seq": {"type": "long"},
                            "before": UNINDEXED, "after": UNINDEXED}),
        "deadletters": _mappings({"received": {"type": "date"}, "offset": {"type": "long"},
                                  "raw": {"type": "keyword", "index": False, "doc_values": False}}),
        "state": _mappings({"value": UNINDEXED, "number": {"type": "long"}}),
        "outbox": _mappings({"order": {"type": "long"}, "doc": UNINDEXED}),
    }


def templates(prefix: str) -> dict[str, dict[str, Any]]:
    """Template name → self-contained body (no component templates), for every index family."""
    return {
        f"{prefix}-{family}": {
            "index_patterns": [f"{prefix}-{family}", f"{prefix}-{family}-*"],
            "template": {"mappings": mappings},
            "priority": 200,
        }
        for family, mappings in family_mappings().items()
    }
