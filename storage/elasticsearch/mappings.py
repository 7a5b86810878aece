"""Index templates with explicit mappings: strings are ``keyword`` unless said otherwise, addresses are
``ip``, times are ``date``, counters are ``long``. Dynamic mapping would make strings ``text`` and miss IPs."""

from __future__ import annotations

from typing import Any

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


def templates(prefix: str) -> dict[str, dict[str, Any]]:
    """Template name → body, for every index family the store writes."""
    dates = {"first_seen": {"type": "date"}, "last_seen": {"type": "date"}, "created": {"type": "date"}}
    families: dict[str, dict[str, Any]] = {
        "events": _mappings(EVENT_FIELDS),
        "alerts": _mappings({**dates, "count": {"type": "long"}, "details": UNINDEXED}),
        "incidents": _mappings({**dates, "updated": {"type": "date"}, "alert_count": {"type": "long"},
                                "detected_at": {"type": "date"}, "severity_rank": {"type": "long"},
                                "state_rank": {"type": "long"}, "search_words": {"type": "keyword"},
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
    }
    return {
        f"{prefix}-{family}": {
            "index_patterns": [f"{prefix}-{family}", f"{prefix}-{family}-*"],
            "template": {"mappings": mappings},
            "priority": 200,
        }
        for family, mappings in families.items()
    }
