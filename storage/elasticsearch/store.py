"""Elasticsearch (or OpenSearch-compatible) store through the official client.

Layout (see docs/decisions/0002-elasticsearch-layout.md): events in monthly indices
``<prefix>-events-YYYY.MM`` keyed by ``event.id`` (the month comes from ``@timestamp``, so a repeated line
always lands on the same document); alerts, incidents, audit, dead letters and state in one index each.
Agency scoping is a ``terms`` filter on the expanded subtree.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from canhgac.core.config import ElasticsearchSettings
from canhgac.core.errors import StoreUnavailable, VersionConflict
from canhgac.core.model import (
    Alert,
    AuditEntry,
    DeadLetter,
    Event,
    Incident,
    parse_utc,
)
from canhgac.storage.base import (
    AlertQuery,
    EventQuery,
    IncidentField,
    IncidentQuery,
    SeverityBucket,
    Store,
    TimeBucket,
    WindowFeatures,
    check_alert_field,
    check_alert_sum_fields,
)
from canhgac.storage.elasticsearch import monitoring_aggs, posture_aggs
from canhgac.storage.elasticsearch.aggregations import (
    alert_filters,
    alert_sums,
    bucket_key,
    severity_buckets,
    severity_histogram,
    top_values,
)
from canhgac.storage.elasticsearch.aggregations import scope as _scope
from canhgac.storage.elasticsearch.bulk import Action, Backoff, with_backoff
from canhgac.storage.elasticsearch.incident_dsl import (
    incident_filters,
    incident_from_hit,
    incident_sort,
    time_range,
)
from canhgac.storage.elasticsearch.local_view import IncidentView, SequenceBlocks, served_locally
from canhgac.storage.elasticsearch.mappings import event_target, events_pattern
from canhgac.storage.elasticsearch.setup import Cluster, delete_expired, install
from canhgac.storage.elasticsearch.work import incident_of_audit
from canhgac.storage.elasticsearch.writes import VIEW_CLOSED_DAYS, WritePath, refused_letter
from canhgac.storage.incident_facts import PostureBreakdown, PostureCounts, PostureRules, WeekCounts
from canhgac.storage.outbox import ChatNotice
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment
from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError

#: How long a listing of suppressions is reused before it is read again (this store's own writes: at once).
RECORDS_TTL_SECONDS = 30.0


def client_from_settings(settings: ElasticsearchSettings) -> Elasticsearch:
    options: dict[str, Any] = {"request_timeout": settings.request_timeout,
                               "verify_certs": settings.verify_certs,
                               "server_mode": settings.server_mode}
    if settings.ca_certs:
        options["ca_certs"] = settings.ca_certs
    if settings.api_key_env:
        options["api_key"] = os.environ.get(settings.api_key_env, "")
    elif settings.username:
        password = os.environ.get(settings.password_env or "", "")
        options["basic_auth"] = (settings.username, password)
    return Elasticsearch(settings.url, **options)


class _Clock:
    """Strictly increasing integers for ordering audit entries written in the same millisecond."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last


class ElasticsearchStore(WritePath, Store):
    kind = "elasticsearch"

    def __init__(self, client: Elasticsearch, *, index_prefix: str = "canhgac",
                 retention_days: int | None = None) -> None:
        # Back-pressure is ours (exponential, jittered waits); the client's immediate retries would only add load.
        self.client = client.options(max_retries=0, retry_on_timeout=False)
        self.prefix = index_prefix
        self.backoff = Backoff()
        self._clock = _Clock()
        self._view = IncidentView(self._load_view, closed_days=VIEW_CLOSED_DAYS)
        self._sequences = SequenceBlocks(self._reserve_sequence)
        self._units = threading.local()
        self._records_cache: dict[tuple[str, frozenset[str] | None, int], tuple[float, list[dict[str, Any]]]] = {}
        self.cluster: Cluster = self._guard(install, client, index_prefix, retention_days=retention_days)
        self.backfilled_facts = self._backfill_facts()

    def _index(self, family: str) -> str:
        return f"{self.prefix}-{family}"

    @property
    def _events_pattern(self) -> str:
        return events_pattern(self.prefix)

    def _guard(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """``call``, waiting out a busy or unreachable cluster (``bulk.with_backoff``)."""
        try:
            return with_backoff(lambda: call(*args, **kwargs), self.backoff)
        except EsConnectionError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc

    # events -----------------------------------------------------------------------------------
    def _event_index(self, event: Event) -> str:
        return event_target(self.prefix, event)

    def put_events(self, events: Sequence[Event]) -> int:
        refused: list[tuple[dict[str, Any], str]] = []
        created = self._bulk_create(self._event_index, ((e["event.id"], e) for e in events), refused)
        if refused:
            self.put_dead_letters([refused_letter(event, reason) for event, reason in refused])
        return len(created)

    def get_event(self, event_id: str, *, agencies: frozenset[str] | None = None) -> Event | None:
        hits = self._search(self._events_pattern, _bool([{"ids": {"values": [event_id]}},
                                                          *_scope("organization.id", agencies)]), size=1)
        return hits[0]["_source"] if hits else None

    def _event_filters(self, query: EventQuery) -> list[dict[str, Any]]:
        filters = _scope("organization.id", query.agencies)
        filters += time_range("@timestamp", query.start, query.end)
        for name, values in query.filters.items():
            filters.append({"terms": {name: list(values)}})
        if query.text is not None:
            filters.append({"match": {"event.original": {"query": query.text, "operator": "and"}}})
        return filters

    def search_events(self, query: EventQuery) -> list[Event]:
        order = "desc" if query.newest_first else "asc"
        after = None
        if query.after is not None:
            after = [_epoch_ms(parse_utc(query.after.timestamp)), query.after.event_id]
        hits = self._search(self._events_pattern, _bool(self._event_filters(query)), size=query.limit,
                            sort=[{"@timestamp": order}, {"event.id": order}], search_after=after)
        return [hit["_source"] for hit in hits]

    def window_features(self, query: EventQuery, interval_seconds: int) -> list[WindowFeatures]:
        composite: dict[str, Any] = {
            "size": 1000,
            "sources": [{"agency": {"terms": {"field": "organization.id"}}},
                        {"start": {"date_histogram": {"field": "@timestamp",
                                                      "fixed_interval": f"{interval_seconds}s"}}}],
        }
        aggs = {"errors": {"filter": {"range": {"http.response.status_code": {"gte": 400}}}},
                "sources": {"cardinality": {"field": "source.ip", "precision_threshold": 40000}}}
        out: list[WindowFeatures] = []
        while True:
            response = self._guard(self.client.search, index=self._events_pattern, size=0,
                                   query=_bool(self._event_filters(query)),
                                   aggs={"by": {"composite": composite, "aggs": aggs}},
                                   ignore_unavailable=True, allow_no_indices=True)
            by = response.get("aggregations", {}).get("by", {})
            for bucket in by.get("buckets", []):
                out.append(WindowFeatures(
                    bucket["key"]["agency"], datetime.fromtimestamp(bucket["key"]["start"] / 1000, UTC),
                    bucket["doc_count"], bucket["errors"]["doc_count"], int(bucket["sources"]["value"])))
            if not by.get("buckets") or "after_key" not in by:
                break
            composite["after"] = by["after_key"]
        return sorted(out, key=lambda w: (w.agency, w.start))

    def count_events(self, query: EventQuery) -> int:
        response = self._guard(self.client.count, index=self._events_pattern,
                               query=_bool(self._event_filters(query)), ignore_unavailable=True,
                               allow_no_indices=True)
        return int(response["count"])

    def count_events_by(self, query: EventQuery, field_name: str, size: int = 10) -> dict[str, int]:
        buckets = self._aggregate(self._events_pattern, _bool(self._event_filters(query)), top_values(field_name, size))
        return {bucket_key(b): b["doc_count"] for b in buckets}

    def count_events_over_time(self, query: EventQuery, interval_seconds: int) -> list[TimeBucket]:
        aggs = {"by": {"date_histogram": {"field": "@timestamp", "fixed_interval": f"{interval_seconds}s",
                                          "min_doc_count": 1}}}
        buckets = self._aggregate(self._events_pattern, _bool(self._event_filters(query)), aggs)
        return [TimeBucket(datetime.fromtimestamp(b["key"] / 1000, UTC), b["doc_count"]) for b in buckets]

    def _search(self, index: str, query: dict[str, Any], *, size: int, sort: list[Any] | None = None,
                search_after: list[Any] | None = None) -> list[dict[str, Any]]:
        response = self._guard(self.client.search, index=index, query=query, size=size, sort=sort,
                               search_after=search_after, ignore_unavailable=True, allow_no_indices=True,
                               seq_no_primary_term=True)
        return response["hits"]["hits"]

    def _aggregate(self, index: str, query: dict[str, Any], aggs: dict[str, Any]) -> list[dict[str, Any]]:
        response = self._guard(self.client.search, index=index, query=query, size=0, aggs=aggs,
                               ignore_unavailable=True, allow_no_indices=True)
        return response.get("aggregations", {}).get("by", {}).get("buckets", [])

    # dead letters -----------------------------------------------------------------------------
    def put_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        index = self._index("deadletters")
        return len(self._bulk_create(lambda _: index, ((d.id, d.to_doc()) for d in letters)))

    def search_dead_letters(self, *, agencies: frozenset[str] | None = None,
                            path: str | None = None, limit: int = 100) -> list[DeadLetter]:
        filters = _scope("agency", agencies)
        if path is not None:
            filters.append({"term": {"path": path}})
        hits = self._search(self._index("deadletters"), _bool(filters), size=limit,
                            sort=[{"received": "desc"}, {"id": "asc"}])
        return [DeadLetter.model_validate(h["_source"]) for h in hits]

    # alerts -----------------------------------------------------------------------------------
    def put_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        index = self._index("alerts")
        refused: list[tuple[dict[str, Any], str]] = []
        created = set(self._bulk_create(lambda _: index, ((a.id, a.to_doc()) for a in alerts), refused,
                                        exact_new=True))
        if refused:
            self.put_dead_letters([refused_letter(alert, reason, kind="alert") for alert, reason in refused])
        return [a for a in alerts if a.id in created]

    def search_alerts(self, query: AlertQuery) -> list[Alert]:
        after = None if query.after is None else [_epoch_ms(query.after.last_seen), query.after.alert_id]
        hits = self._search(self._index("alerts"), _bool(alert_filters(query)), size=query.limit,
                            sort=[{"last_seen": "desc"}, {"id": "asc"}], search_after=after)
        return [Alert.model_validate(h["_source"]) for h in hits]

    def count_alerts_by(self, query: AlertQuery, field_name: str, size: int = 10) -> dict[str, int]:
        aggs = top_values(check_alert_field(field_name), size)
        buckets = self._aggregate(self._index("alerts"), _bool(alert_filters(query)), aggs)
        return {bucket_key(b): b["doc_count"] for b in buckets}

    def sum_alerts_by(self, query: AlertQuery, fields: Sequence[str]) -> dict[tuple[str | None, ...], int]:
        def search(aggs: dict[str, Any]) -> Any:
            return self._guard(self.client.search, index=self._index("alerts"), size=0, aggs=aggs,
                               query=_bool(alert_filters(query)), ignore_unavailable=True, allow_no_indices=True)

        return alert_sums(search, check_alert_sum_fields(fields))

    def count_alerts_over_time_by_severity(self, query: AlertQuery, interval_seconds: int) -> list[SeverityBucket]:
        aggs = severity_histogram("last_seen", interval_seconds)
        return severity_buckets(self._aggregate(self._index("alerts"), _bool(alert_filters(query)), aggs))

    def get_alerts(self, alert_ids: Sequence[str], *, agencies: frozenset[str] | None = None) -> list[Alert]:
        wanted = sorted(set(alert_ids))
        found: list[Alert] = []
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start:start + 1000]
            hits = self._search(self._index("alerts"), _bool([{"ids": {"values": chunk}},
                                                              *_scope("agency", agencies)]), size=len(chunk))
            found += [Alert.model_validate(h["_source"]) for h in hits]
        return found

    # incidents --------------------------------------------------------------------------------
    def get_incident(self, incident_id: str, *, agencies: frozenset[str] | None = None) -> Incident | None:
        unit = self._unit()
        held = unit.incidents.get(incident_id) if unit is not None else None
        if held is not None:
            found: Incident | None = held.incident
        else:
            response = self._get_raw("incidents", incident_id)
            found = None if response is None else incident_from_hit(response, _version(response))
        if found is None or (agencies is not None and found.agency not in agencies):
            return None
        return found

    def search_incidents(self, query: IncidentQuery) -> list[Incident]:
        if served_locally(query):  # the grouping lookup, right after this process's own writes
            return self._view.search(query)
        after = None if query.after is None else [query.after.value, query.after.incident_id]
        hits = self._search(self._index("incidents"), self._incident_query(query), size=query.limit,
                            sort=incident_sort(query), search_after=after)
        return [incident_from_hit(h, _version(h)) for h in hits]

    # posture aggregations (posture_aggs.py, decision 0046) -------------------------------------------------
    def _incidents_aggregation(self, query: dict[str, Any], aggs: dict[str, Any]) -> Any:
        return self._guard(self.client.search, index=self._index("incidents"), size=0, query=query, aggs=aggs,
                           ignore_unavailable=True, allow_no_indices=True)

    def posture_counts(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                       rules: PostureRules) -> dict[str, PostureCounts]:
        return posture_aggs.posture_counts(self._incidents_aggregation, agencies, since, now, rules)

    def posture_breakdown(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          top: int) -> PostureBreakdown:
        return posture_aggs.posture_breakdown(self._incidents_aggregation, agencies, since, top)

    def posture_weeks(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime) -> list[WeekCounts]:
        return posture_aggs.posture_weeks(self._incidents_aggregation, agencies, since, now)

    def overdue_incidents(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          rules: PostureRules, limit: int = 1000) -> list[Incident]:
        hits = self._search(self._index("incidents"), posture_aggs.overdue_query(agencies, since, now, rules),
                            size=limit, sort=[{"facts.detected": "asc"}, {"id": "asc"}])
        return [incident_from_hit(h, _version(h)) for h in hits]

    def period_incidents(self, agencies: frozenset[str] | None, *, moment: PeriodMoment, start: datetime,
                         end: datetime, limit: int) -> PeriodIncidents:
        def search(**request: Any) -> Any:
            return self._guard(self.client.search, index=self._index("incidents"), track_total_hits=True,
                               seq_no_primary_term=True, ignore_unavailable=True, allow_no_indices=True, **request)

        return monitoring_aggs.period_incidents(search, lambda h: incident_from_hit(h, _version(h)), agencies,
                                                moment, start, end, limit)

    def _backfill_facts(self) -> int:
        """Write the facts into incident documents stored without them (or with an older version): one pass
        by id, conditional writes, one refresh if anything was written. Returns how many were written."""
        written = 0
        after: list[Any] | None = None
        while True:
            hits = self._search(self._index("incidents"), posture_aggs.stale_query(), size=1000,
                                sort=[{"id": "asc"}], search_after=after)
            if hits:
                actions = posture_aggs.backfill_actions(self._index("incidents"), hits,
                                                        lambda h: incident_from_hit(h, _version(h)))
                written += sum(1 for outcome in self._send(actions) if outcome.written)
            if len(hits) < 1000:
                break
            after = hits[-1]["sort"]
        if written:
            self._guard(self.client.indices.refresh, index=self._index("incidents"))
        return written

    def _incident_query(self, query: IncidentQuery) -> dict[str, Any]:
        return _bool(_scope("agency", query.agencies) + incident_filters(query))

    def count_incidents(self, query: IncidentQuery) -> int:
        response = self._guard(self.client.count, index=self._index("incidents"), query=self._incident_query(query),
                               ignore_unavailable=True, allow_no_indices=True)
        return int(response["count"])

    def count_incidents_by(self, query: IncidentQuery, field_name: IncidentField, size: int = 10) -> dict[str, int]:
        buckets = self._aggregate(self._index("incidents"), self._incident_query(query), top_values(field_name, size))
        return {bucket_key(b): b["doc_count"] for b in buckets}

    # audit trail ------------------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        doc = {**entry.to_doc(), "seq": self._clock.next()}
        unit = self._unit()
        if unit is not None:
            unit.audits.append((incident_of_audit(doc), Action("create", self._index("audit"), entry.id, doc)))
            return
        try:
            self._guard(self.client.index, index=self._index("audit"), id=entry.id, document=doc, op_type="create")
        except ConflictError:
            stored = self._get_raw("audit", entry.id)  # a retry of our own write that got through?
            if stored is None or stored["_source"] != doc:
                raise VersionConflict(entry.id, "new", "exists") from None

    def list_audit(self, *, object_type: str | None = None, object_id: str | None = None,
                   agencies: frozenset[str] | None = None, limit: int = 100) -> list[AuditEntry]:
        filters = _scope("agency", agencies)
        for name, value in (("object_type", object_type), ("object_id", object_id)):
            if value is not None:
                filters.append({"term": {name: value}})
        hits = self._search(self._index("audit"), _bool(filters), size=limit,
                            sort=[{"at": "asc"}, {"seq": "asc"}])
        return [AuditEntry.model_validate({k: v for k, v in h["_source"].items() if k != "seq"})
                for h in hits]

    # records ----------------------------------------------------------------------------------
    def _put_record(self, kind: str, record_id: str, agency: str | None, doc: dict[str, Any]) -> None:
        self._guard(self.client.index, index=self._index("records"), id=f"{kind}:{record_id}",
                    document={"kind": kind, "record_id": record_id, "agency": agency, "doc": doc})
        # Searches see the write only after the next refresh: until then, list from the cache kept in step.
        for key, (at, docs) in list(self._records_cache.items()):
            if key[0] == kind:
                kept = [d for d in docs if _record_id(kind, d) != record_id]
                if key[1] is None or agency in key[1]:
                    kept.append(doc)
                self._records_cache[key] = (at, sorted(kept, key=lambda d: _record_id(kind, d))[:key[2]])

    def _get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        try:
            response = self._guard(self.client.get, index=self._index("records"), id=f"{kind}:{record_id}")
        except NotFoundError:
            return None
        return response["_source"]["doc"]

    def _list_records(self, kind: str, *, agencies: frozenset[str] | None, limit: int) -> list[dict[str, Any]]:
        key = (kind, agencies, limit)
        cached = self._records_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < RECORDS_TTL_SECONDS:
            return list(cached[1])
        hits = self._search(self._index("records"), _bool([{"term": {"kind": kind}}, *_scope("agency", agencies)]),
                            size=limit, sort=[{"record_id": "asc"}])
        docs = [h["_source"]["doc"] for h in hits]
        if kind == "suppression":  # read on every ingest batch
            self._records_cache[key] = (time.monotonic(), docs)
        return list(docs)

    # small state ------------------------------------------------------------------------------
    def get_state(self, key: str) -> dict[str, Any] | None:
        for unit in reversed(getattr(self._units, "stack", [])):
            if key in unit.states:
                return unit.state_value(key)
        try:
            response = self._guard(self.client.get, index=self._index("state"), id=f"state:{key}")
        except NotFoundError:
            return None
        return response["_source"]["value"]

    def put_state(self, key: str, value: dict[str, Any]) -> None:
        doc = {"key": key, "value": value}
        unit = self._unit()
        if unit is not None:
            unit.states[key] = Action("index", self._index("state"), f"state:{key}", doc)
            return
        self._guard(self.client.index, index=self._index("state"), id=f"state:{key}", document=doc)

    def list_state(self, prefix: str, *, limit: int = 1000) -> dict[str, dict[str, Any]]:
        hits = self._search(self._index("state"), {"prefix": {"key": prefix}}, size=limit,
                            sort=[{"key": {"order": "asc", "unmapped_type": "keyword"}}])
        return {h["_source"]["key"]: h["_source"]["value"] for h in hits}

    # chat outbox: refreshed on every write, so the dispatcher's next listing never shows a removed notice -----
    def put_chat_notices(self, notices: Sequence[ChatNotice]) -> int:
        if not notices:
            return 0
        index = self._index("outbox")
        created = self._bulk_create(lambda _: index, ((n.id, _outbox_doc(n)) for n in notices), exact_new=True)
        self._guard(self.client.indices.refresh, index=index)
        return len(created)

    def list_chat_notices(self, *, channel: str | None = None, limit: int = 1000) -> list[ChatNotice]:
        query = _bool([{"term": {"channel": channel}}] if channel is not None else [])
        hits = self._search(self._index("outbox"), query, size=limit, sort=[{"order": "asc"}, {"id": "asc"}])
        return [ChatNotice.model_validate(h["_source"]["doc"]) for h in hits]

    def update_chat_notice(self, notice: ChatNotice) -> None:
        self._guard(self.client.index, index=self._index("outbox"), id=notice.id, document=_outbox_doc(notice),
                    refresh=True)

    def delete_chat_notice(self, notice_id: str) -> None:
        try:
            self._guard(self.client.delete, index=self._index("outbox"), id=notice_id, refresh=True)
        except NotFoundError:
            return

    def delete_expired(self, before: datetime) -> int:
        return int(self._guard(delete_expired, self.client, self.prefix, before))

    # housekeeping -----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._guard(self.client.indices.refresh, index=f"{self.prefix}-*", ignore_unavailable=True,
                    allow_no_indices=True)

    def reread_incidents(self) -> None:
        self.refresh()
        self._view.invalidate()

    def number_incidents_singly(self) -> None:
        self._sequences.size = 1

    def close(self) -> None:
        self.client.close()


def _bool(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _record_id(kind: str, doc: dict[str, Any]) -> str:
    return str(doc.get("sha256") if kind == "api_key" else doc.get("id"))




def _outbox_doc(notice: ChatNotice) -> dict[str, Any]:
    return {"id": notice.id, "channel": notice.channel, "order": int(notice.created.timestamp() * 1_000_000),
            "doc": notice.to_doc()}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _version(response: Any) -> str:
    return f"{response['_seq_no']}:{response['_primary_term']}"
