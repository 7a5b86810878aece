"""Aggregation requests on Elasticsearch (counts by value, histograms) and the alert filters they share with
searches; every aggregation runs at ``size: 0``, so no document is read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def alert_sums(search: Callable[[dict[str, Any]], Any], fields: Sequence[str], *,
               page_size: int = 1000) -> dict[tuple[str | None, ...], int]:
    """``sum_alerts_by``: a composite aggregation over ``fields`` (missing values in their own bucket) with the
    sum of ``count``, paged with ``after_key``; ``search(aggs)`` runs one ``size: 0`` search."""
    names = [f"k{n}" for n in range(len(fields))]
    sources = [{name: {"terms": {"field": field_name, "missing_bucket": True}}}
               for name, field_name in zip(names, fields, strict=True)]
    composite: dict[str, Any] = {"size": page_size, "sources": sources}
    sums: dict[tuple[str | None, ...], int] = {}
    while True:
        response = search({"by": {"composite": composite,
                                  "aggs": {"total": {"sum": {"field": "count", "missing": 1}}}}})
        by = response.get("aggregations", {}).get("by", {})
        for bucket in by.get("buckets", []):
            key = tuple(None if bucket["key"][name] is None else str(bucket["key"][name]) for name in names)
            sums[key] = sums.get(key, 0) + int(bucket["total"]["value"])
        if len(by.get("buckets", [])) < composite["size"] or "after_key" not in by:  # a short page is the last
            return sums
        composite["after"] = by["after_key"]
