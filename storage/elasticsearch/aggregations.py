"""Aggregation requests on Elasticsearch (counts by value, histograms) and the alert filters they share with
searches; every aggregation runs at ``size: 0``, so no document is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from canhgac.core.model import Severity
from canhgac.storage.base import AlertQuery, SeverityBucket
from canhgac.storage.elasticsearch.incident_dsl import time_range

SEVERITY_AT_LEAST = {"low": ["low", "medium", "high", "critical"], "medium": ["medium", "high", "critical"],
                     "high": ["high", "critical"], "critical": ["critical"]}


def scope(field_name: str, agencies: frozenset[str] | None) -> list[dict[str, Any]]:
    if agencies is None:
        return []
    return [{"terms": {field_name: sorted(agencies)}}]


def alert_filters(query: AlertQuery) -> list[dict[str, Any]]:
    filters = scope("agency", query.agencies)
    filters += time_range("last_seen", query.start, query.end)
    if query.rule_id is not None:
        filters.append({"term": {"rule_id": query.rule_id}})
    if query.min_severity is not None:
        filters.append({"terms": {"severity": SEVERITY_AT_LEAST[query.min_severity.value]}})
    return filters


def top_values(field_name: str, size: int) -> dict[str, Any]:
    """The ``by`` aggregation: the most frequent values first, ties by value (as SQLite orders them)."""
    return {"by": {"terms": {"field": field_name, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}}


def severity_histogram(field_name: str, interval_seconds: int) -> dict[str, Any]:
    return {"by": {"date_histogram": {"field": field_name, "fixed_interval": f"{interval_seconds}s",
                                      "min_doc_count": 1},
                   "aggs": {"severity": {"terms": {"field": "severity", "size": len(Severity)}}}}}


def severity_buckets(buckets: list[dict[str, Any]]) -> list[SeverityBucket]:
    return [SeverityBucket(datetime.fromtimestamp(b["key"] / 1000, UTC),
                           {Severity(s["key"]): s["doc_count"] for s in b["severity"]["buckets"]})
            for b in buckets if b["doc_count"]]


def bucket_key(bucket: dict[str, Any]) -> str:
    key = bucket.get("key_as_string", bucket["key"])
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    return str(key)
