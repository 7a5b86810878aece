"""Posture aggregations on Elasticsearch over the ``facts`` object every incident document carries
(``incident_facts``): filters built from the configured clocks at ``now``, no script, ``size: 0`` requests;
and the backfill of facts into documents written before them (docs/decisions/0046)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from canhgac.core.model import OPEN_STATES, Incident, Severity, to_utc_iso
from canhgac.storage.elasticsearch.bulk import Action
from canhgac.storage.elasticsearch.incident_dsl import incident_doc
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
    met_below,
    vietnam_day,
    week_moments,
)

Query = dict[str, Any]
NOTHING: Query = {"bool": {"must_not": [{"match_all": {}}]}}
#: Agencies per composite page: ~23 sub-buckets each stays far below the default ``search.max_buckets``.
PAGE = 1000


def _all(*filters: Query) -> Query:
    return {"bool": {"filter": list(filters)}}


def _any(filters: Iterable[Query]) -> Query:
    listed = list(filters)
    return {"bool": {"should": listed, "minimum_should_match": 1}} if listed else NOTHING


def _none(*filters: Query) -> Query:
    return {"bool": {"must_not": list(filters)}}


def _terms(field_name: str, values: Iterable[str]) -> Query:
    listed = sorted(values)
    return {"terms": {field_name: listed}} if listed else NOTHING


def _missing(fact: str) -> Query:
    return _none({"exists": {"field": f"facts.{fact}"}})


def _per_severity(make: Callable[[Severity], Query]) -> Query:
    return _any(_all({"term": {"severity": s.value}}, make(s)) for s in Severity)


def base(agencies: frozenset[str] | None, since: datetime) -> Query:
    """Unmerged incidents, open or active (``last_seen``) since ``since``, within ``agencies``."""
    filters: list[Query] = [{"term": {"facts.merged": False}},
                            _any([_terms("state", (s.value for s in OPEN_STATES)),
                                  {"range": {"last_seen": {"gte": to_utc_iso(since),
                                                           "format": "strict_date_optional_time"}}}])]
    if agencies is not None:
        filters.append(_terms("agency", agencies))
    return _all(*filters)


class Clocks:
    """The clock conditions of ``rules`` at ``now`` as filters over the facts."""

    def __init__(self, rules: PostureRules, now: datetime) -> None:
        self.serious = _any([{"term": {"facts.override": True}},
                             _all(_missing("override"), _terms("system", rules.serious_systems),
                                  _terms("facts.categories", rules.serious_categories))])

        def due(fact: str, lengths: dict[Severity, Any]) -> Query:
            return _all(_missing(fact), _per_severity(
                lambda s: {"range": {"facts.detected": {"lte": due_by(now, lengths[s])}}}))

        def done(fact: str, lengths: dict[Severity, Any], op: str) -> Query:
            return _per_severity(lambda s: {"range": {f"facts.{fact}": {op: met_below(lengths[s])}}})

        ack, resolve = dict(rules.acknowledge), dict(rules.resolve)
        self.overdue = {
            "acknowledge": due("ack_after", ack),
            "resolve": due("resolve_after", resolve),
            "incident_notice": _all(_none(_terms("facts.resolution", rules.exempt_resolutions)),
                                    _missing("notice_after"), {"range": {"facts.detected": {
                                        "lte": due_by(now, rules.incident_notice)}}}),
            "breach_notice": _all({"term": {"facts.breach": True}}, _missing("breach_after"),
                                  {"range": {"facts.detected": {"lte": due_by(now, rules.breach_notice)}}}),
            "serious_initial_report": _all(self.serious, _missing("serious_after"), {"range": {"facts.detected": {
                "lte": due_by(now, rules.serious_report)}}}),
        }
        self.met = {"ack": done("ack_after", ack, "lt"), "res": done("resolve_after", resolve, "lt")}
        self.missed = {"ack": _any([self.overdue["acknowledge"], done("ack_after", ack, "gte")]),
                       "res": _any([self.overdue["resolve"], done("resolve_after", resolve, "gte")])}


def _is_open() -> Query:
    return _terms("state", (s.value for s in OPEN_STATES))


def count_aggs(since: datetime, clocks: Clocks) -> dict[str, Any]:
    recent = {"range": {"facts.detected": {"gte": detected_from(since)}}}
    aggs: dict[str, Any] = {f"sev_{s.value}": {"filter": _all(_is_open(), {"term": {"severity": s.value}})}
                            for s in Severity}
    aggs |= {f"state_{s.value}": {"filter": {"term": {"state": s.value}}} for s in OPEN_STATES}
    aggs["serious"] = {"filter": _all(_is_open(), clocks.serious)}
    aggs |= {f"od_{kind}": {"filter": condition} for kind, condition in clocks.overdue.items()}
    for clock in ("ack", "res"):
        aggs[f"met_{clock}"] = {"filter": _all(recent, clocks.met[clock])}
        aggs[f"missed_{clock}"] = {"filter": _all(recent, clocks.missed[clock])}
    for clock, fact in (("ack", "ack_after"), ("res", "resolve_after")):
        aggs[f"time_{clock}"] = {"filter": _all(recent, {"exists": {"field": f"facts.{fact}"}}),
                                 "aggs": {"total": {"sum": {"field": f"facts.{fact}"}}}}
    return aggs


def counts_of(bucket: dict[str, Any]) -> PostureCounts:
    def n(name: str) -> int:
        return int(bucket[name]["doc_count"])

    return PostureCounts(
        open_by_severity={s: n(f"sev_{s.value}") for s in Severity},
        open_by_state={s: n(f"state_{s.value}") for s in OPEN_STATES}, serious_open=n("serious"),
        overdue={kind: n(f"od_{kind}") for kind in ("acknowledge", "resolve", "incident_notice", "breach_notice",
                                                      "serious_initial_report")},
        sla_met=n("met_ack") + n("met_res"), sla_missed=n("missed_ack") + n("missed_res"),
        ack_total_ms=int(bucket["time_ack"]["total"]["value"] or 0), ack_count=n("time_ack"),
        resolve_total_ms=int(bucket["time_res"]["total"]["value"] or 0), resolve_count=n("time_res"))


def posture_counts(search: Callable[[Query, dict[str, Any]], Any], agencies: frozenset[str] | None,
                   since: datetime, now: datetime, rules: PostureRules) -> dict[str, PostureCounts]:
    """One composite page per ``PAGE`` agencies with incidents: a national ranking is one request or a few."""
    composite: dict[str, Any] = {"size": PAGE, "sources": [{"agency": {"terms": {"field": "agency"}}}]}
    aggs = count_aggs(since, Clocks(rules, now))
    out: dict[str, PostureCounts] = {}
    while True:
        response = search(base(agencies, since), {"by": {"composite": composite, "aggs": aggs}})
        by = response.get("aggregations", {}).get("by", {})
        buckets = by.get("buckets", [])
        for bucket in buckets:
            out[str(bucket["key"]["agency"])] = counts_of(bucket)
        if len(buckets) < PAGE or "after_key" not in by:
            return out
        composite["after"] = by["after_key"]


def _day_histogram(fact: str) -> dict[str, Any]:
    """Vietnam days: 24 h buckets starting at 17:00 UTC."""
    return {"histogram": {"field": f"facts.{fact}", "interval": DAY_MS, "offset": DAY_MS - VIETNAM_OFFSET_MS,
                          "min_doc_count": 1}}


def posture_breakdown(search: Callable[[Query, dict[str, Any]], Any], agencies: frozenset[str] | None,
                      since: datetime, top: int) -> PostureBreakdown:
    first = (detected_from(since) + VIETNAM_OFFSET_MS) // DAY_MS * DAY_MS - VIETNAM_OFFSET_MS
    recent = {"range": {"facts.detected": {"gte": detected_from(since)}}}
    order = [{"_count": "desc"}, {"_key": "asc"}]
    aggs = {
        **{name: {"filter": {"range": {f"facts.{fact}": {"gte": first}}}, "aggs": {"days": _day_histogram(fact)}}
           for name, fact in (("opened", "detected"), ("closed", "closed"))},
        **{name: {"filter": recent, "aggs": {"top": {"terms": {"field": name, "size": top + 1, "order": order}}}}
           for name in ("system", "rule_id")},
    }
    found = search(base(agencies, since), aggs).get("aggregations", {})
    out = PostureBreakdown()
    for name, target in (("opened", out.opened_by_day), ("closed", out.closed_by_day)):
        for bucket in found.get(name, {}).get("days", {}).get("buckets", []):
            if bucket["doc_count"]:
                target[vietnam_day(int(bucket["key"]))] = int(bucket["doc_count"])
    for name, target in (("system", out.systems), ("rule_id", out.rules)):
        values = [(str(b["key"]), int(b["doc_count"])) for b in found.get(name, {}).get("top", {}).get("buckets", [])]
        target.update(dict([kv for kv in values if kv[0]][:top]))
    return out


def _mean_parts() -> dict[str, Any]:
    return {f"time_{clock}": {"filter": {"exists": {"field": f"facts.{fact}"}},
                              "aggs": {"total": {"sum": {"field": f"facts.{fact}"}}}}
            for clock, fact in (("ack", "ack_after"), ("res", "resolve_after"))}


def posture_weeks(search: Callable[[Query, dict[str, Any]], Any], agencies: frozenset[str] | None,
                  since: datetime, now: datetime) -> list[WeekCounts]:
    """One request: a week histogram of detection, and per week whether each incident was open at its end — a
    ``term`` on the ``long_range`` spans of being closed."""
    weeks = week_moments(since, now)
    span = {"range": {"facts.detected": {"gte": detected_from(weeks[0][1]), "lt": detected_from(weeks[-1][2])}}}
    aggs: dict[str, Any] = {"weeks": {"filter": span, "aggs": {"by": {
        "histogram": {"field": "facts.detected", "interval": WEEK_MS, "offset": WEEK_OFFSET_MS, "min_doc_count": 1},
        "aggs": _mean_parts()}}}}
    for n, (_, _, end) in enumerate(weeks):
        moment = detected_from(min(end, now))
        aggs[f"open_{n}"] = {"filter": {"bool": {"filter": [{"range": {"facts.detected": {"lt": moment}}}],
                                                 "must_not": [{"term": {"facts.closed_spans": moment}}]}}}
    found = search(base(agencies, since), aggs).get("aggregations", {})
    out = {start: WeekCounts(start) for start, _, _ in weeks}
    for bucket in found.get("weeks", {}).get("by", {}).get("buckets", []):
        week = out.get(vietnam_day(int(bucket["key"])))
        if week is not None and bucket["doc_count"]:
            week.opened = int(bucket["doc_count"])
            week.ack_total_ms, week.ack_count = int(bucket["time_ack"]["total"]["value"] or 0), int(
                bucket["time_ack"]["doc_count"])
            week.resolve_total_ms, week.resolve_count = int(bucket["time_res"]["total"]["value"] or 0), int(
                bucket["time_res"]["doc_count"])
    for n, (start, _, _) in enumerate(weeks):
        out[start].open_at_end = int(found.get(f"open_{n}", {}).get("doc_count", 0))
    return list(out.values())


def overdue_query(agencies: frozenset[str] | None, since: datetime, now: datetime, rules: PostureRules) -> Query:
    return _all(base(agencies, since), _any(Clocks(rules, now).overdue.values()))


def stale_query() -> Query:
    """Incident documents without facts of the current version."""
    return _none({"range": {"facts.v": {"gte": FACTS_VERSION}}})


def backfill_actions(index: str, hits: Iterable[dict[str, Any]],
                     parse: Callable[[dict[str, Any]], Incident]) -> list[Action]:
    """Rewrite each document with its facts, only if it is still the version read (a writer meanwhile wrote
    them anyway)."""
    return [Action("index", index, hit["_id"], incident_doc(parse(hit)), hit["_seq_no"], hit["_primary_term"])
            for hit in hits]

