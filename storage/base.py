"""The storage contract every backend honours; ``tests/storage`` runs the same suite on each.

Scoping to an agency subtree is part of every query (``agencies``), so callers cannot forget it: the API
passes the caller's subtree, internal jobs pass ``None`` (all agencies).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from canhgac.core.model import (
    Alert,
    ApiKeyRecord,
    AuditEntry,
    DeadLetter,
    Event,
    Incident,
    IncidentState,
    Severity,
    Suppression,
)
from canhgac.storage.incident_facts import PostureBreakdown, PostureCounts, PostureRules, WeekCounts
from canhgac.storage.outbox import ChatNotice
from canhgac.storage.period_incidents import PeriodIncidents, PeriodMoment


@dataclass(frozen=True)
class EventCursor:
    """A position in event order: the ``@timestamp`` and ``event.id`` of the last event seen."""

    timestamp: str
    event_id: str

    @classmethod
    def of(cls, event: Event) -> EventCursor:
        return cls(event["@timestamp"], event["event.id"])


@dataclass(frozen=True)
class AlertCursor:
    last_seen: datetime
    alert_id: str

    @classmethod
    def of(cls, alert: Alert) -> AlertCursor:
        return cls(alert.last_seen, alert.id)


@dataclass(frozen=True)
class EventQuery:
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    agencies: frozenset[str] | None = None  # None: every agency
    filters: Mapping[str, Sequence[str | int]] = field(default_factory=dict)  # field: any of these values
    limit: int = 100
    newest_first: bool = True
    after: EventCursor | None = None  # resume after this event, in the query's order
    #: Free text: every word must be a word of ``event.original`` (standard analyzer: Unicode words,
    #: case-insensitive, dots between digits or between letters kept inside a word, e.g. an IP address).
    text: str | None = None


@dataclass(frozen=True)
class AlertQuery:
    start: datetime | None = None  # on last_seen
    end: datetime | None = None
    agencies: frozenset[str] | None = None
    rule_id: str | None = None
    min_severity: Severity | None = None
    limit: int = 100
    after: AlertCursor | None = None  # resume after this alert (newest first)


IncidentSort = Literal["last_seen", "first_seen", "created", "severity", "state", "alert_count", "id", "agency"]
#: Sorting by state follows the lifecycle (new first), not the alphabet.
STATE_RANK = {state: rank for rank, state in enumerate(IncidentState)}
#: What ``count_incidents_by`` can group by.
IncidentField = Literal["severity", "state", "system", "agency", "rule_id", "assignee"]
#: What ``count_alerts_by`` can group by: alert fields, or an entity (``entities.source.ip``).
ALERT_FIELDS = ("rule_id", "severity", "agency", "system")
ALERT_ENTITY_FIELDS = ("source.ip", "user.name", "client.ip")


def check_alert_field(field_name: str) -> str:
    """``field_name`` if ``count_alerts_by`` can group by it; ``ValueError`` otherwise."""
    if field_name in ALERT_FIELDS or (field_name.startswith("entities.") and
                                      field_name.removeprefix("entities.") in ALERT_ENTITY_FIELDS):
        return field_name
    raise ValueError(f"alerts cannot be counted by {field_name!r}")


#: What ``sum_alerts_by`` can also group by: the rule's title, and each of an alert's tags.
ALERT_SUM_FIELDS = (*ALERT_FIELDS, "rule_title", "tags")


def check_alert_sum_fields(fields: Sequence[str]) -> tuple[str, ...]:
    for name in fields:
        if name not in ALERT_SUM_FIELDS:
            check_alert_field(name)
    return tuple(fields)


def alert_values(alert: Alert, field_name: str) -> list[str | None]:
    """The values ``sum_alerts_by`` groups ``alert`` under for one field (None: the alert has none)."""
    if field_name == "tags":
        return list(dict.fromkeys(alert.tags)) or [None]
    if field_name.startswith("entities."):
        return [alert.entities.get(field_name.removeprefix("entities."))]
    value = getattr(alert, field_name)
    return [None if value is None else str(value.value if isinstance(value, Severity) else value)]


@dataclass(frozen=True)
class IncidentCursor:
    """A position in an incident listing: the sort value (epoch ms, a rank, a count, or the agency or id for
    the text sorts) and the id."""

    value: int | str
    incident_id: str

    @classmethod
    def of(cls, incident: Incident, sort: IncidentSort) -> IncidentCursor:
        return cls(sort_value(incident, sort), incident.id)


def sort_value(incident: Incident, sort: IncidentSort) -> int | str:
    """The value an incident is ordered by, as the stores keep it."""
    if sort == "severity":
        return incident.severity.rank
    if sort == "state":
        return STATE_RANK[incident.state]
    if sort == "alert_count":
        return incident.alert_count
    if sort in ("id", "agency"):
        return getattr(incident, sort)
    return int(getattr(incident, sort).timestamp() * 1000)


@dataclass(frozen=True)
class IncidentQuery:
    agencies: frozenset[str] | None = None
    states: frozenset[IncidentState] | None = None
    fingerprint: str | None = None
    rule_id: str | None = None  # the rule that opened the incident or any rule that joined it
    limit: int = 100
    severities: frozenset[Severity] | None = None
    systems: frozenset[str] | None = None
    assignee: str | None = None
    start: datetime | None = None  # on last_seen
    end: datetime | None = None  # exclusive
    sort: IncidentSort = "last_seen"
    descending: bool = True  # ties always by id, ascending
    after: IncidentCursor | None = None
    #: Free text: every word (folded, see ``incident_text``) must begin a word of the incident.
    text: str | None = None
    #: The caller only reads what it gets (a list page): a store may hand out incidents it keeps and shares.
    read_only: bool = False


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    count: int


@dataclass(frozen=True)
class SeverityBucket:
    """Alerts in one fixed interval, per severity (severities without alerts are absent)."""

    start: datetime
    counts: dict[Severity, int]


@dataclass(frozen=True)
class WindowFeatures:
    """Traffic of one agency in one time window: what the anomaly detector learns from."""

    agency: str
    start: datetime
    requests: int
    errors: int  # HTTP status >= 400
    distinct_sources: int  # distinct source.ip

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class UnitOfWork:
    """The writes made inside ``Store.unit_of_work()``.

    Where every write is sent when made (SQLite, and this default), a lost race raises ``VersionConflict`` at
    once and nothing is listed here. Where the writes are sent together when the unit ends (Elasticsearch: a
    bulk), incident writes return a provisional version; after the unit, ``final`` gives each incident as
    written (its real version), and an incident whose conditional write lost to a change made meanwhile is in
    ``conflicts``: that write and its audit entries were not stored, and the caller redoes the change from a
    fresh read (which sees the winning change).
    """

    def __init__(self) -> None:
        self.conflicts: set[str] = set()
        self.written: dict[str, Incident] = {}

    def final(self, incident: Incident) -> Incident:
        return self.written.get(incident.id, incident)


class Store(ABC):
    """Events, dead letters, alerts, incidents, the audit trail and small state, behind one API."""

    kind: str

    # events -----------------------------------------------------------------------------------
    @abstractmethod
    def put_events(self, events: Sequence[Event]) -> int:
        """Store events keyed by ``event.id``; return how many were new (a repeat is ignored)."""

    def pack_events(self, events: Sequence[Event]) -> Sequence[Event]:
        """The events in the form ``put_events`` takes fastest, made ahead of it (by the process that decodes a
        file, docs/decisions/0037); what it returns still reads as the events. Here: the events as they are."""
        return events

    @abstractmethod
    def get_event(self, event_id: str, *, agencies: frozenset[str] | None = None) -> Event | None: ...

    @abstractmethod
    def search_events(self, query: EventQuery) -> list[Event]:
        """Ordered by ``@timestamp`` then ``event.id`` (newest first unless asked otherwise)."""

    @abstractmethod
    def count_events(self, query: EventQuery) -> int: ...

    @abstractmethod
    def count_events_by(self, query: EventQuery, field_name: str, size: int = 10) -> dict[str, int]:
        """The ``size`` most frequent values of ``field_name`` among matching events."""

    @abstractmethod
    def count_events_over_time(self, query: EventQuery, interval_seconds: int) -> list[TimeBucket]:
        """Matching events per fixed interval (aligned to the epoch), non-empty buckets, oldest first."""

    @abstractmethod
    def window_features(self, query: EventQuery, interval_seconds: int) -> list[WindowFeatures]:
        """Per agency and fixed window (aligned to the epoch): requests, errors, distinct sources.

        Only windows with at least one event appear; ordered by agency, then window start.
        """

    # dead letters -----------------------------------------------------------------------------
    @abstractmethod
    def put_dead_letters(self, letters: Sequence[DeadLetter]) -> int: ...

    @abstractmethod
    def search_dead_letters(self, *, agencies: frozenset[str] | None = None,
                            path: str | None = None, limit: int = 100) -> list[DeadLetter]: ...

    # alerts -----------------------------------------------------------------------------------
    @abstractmethod
    def put_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Store alerts keyed by id; return the ones that were new."""

    @abstractmethod
    def search_alerts(self, query: AlertQuery) -> list[Alert]:
        """Newest ``last_seen`` first (ties by id)."""

    @abstractmethod
    def count_alerts_by(self, query: AlertQuery, field_name: str, size: int = 10) -> dict[str, int]:
        """The ``size`` most frequent values of ``field_name`` (``ALERT_FIELDS``, or ``entities.`` and one of
        ``ALERT_ENTITY_FIELDS``) among matching alerts, most frequent first, ties by value."""

    def sum_alerts_by(self, query: AlertQuery, fields: Sequence[str]) -> dict[tuple[str | None, ...], int]:
        """Σ ``count`` of the matching alerts (``limit`` and ``after`` ignored) per combination of values of
        ``fields`` (``ALERT_SUM_FIELDS`` or ``entities.`` and an entity); a missing value is None, and an alert
        with several tags counts under each. This default reads the alerts; the stores aggregate instead."""
        fields = check_alert_sum_fields(fields)
        sums: dict[tuple[str | None, ...], int] = {}
        page = replace(query, limit=1000, after=None)
        while True:
            alerts = self.search_alerts(page)
            for alert in alerts:
                for key in itertools.product(*(alert_values(alert, name) for name in fields)):
                    sums[key] = sums.get(key, 0) + alert.count
            if len(alerts) < page.limit:
                return sums
            page = replace(page, after=AlertCursor.of(alerts[-1]))

    @abstractmethod
    def count_alerts_over_time_by_severity(self, query: AlertQuery, interval_seconds: int) -> list[SeverityBucket]:
        """Matching alerts per fixed interval of ``last_seen`` (aligned to the epoch) and severity, non-empty
        buckets, oldest first."""

    @abstractmethod
    def get_alerts(self, alert_ids: Sequence[str], *, agencies: frozenset[str] | None = None) -> list[Alert]:
        """The alerts with these ids that exist within ``agencies``, in no particular order."""

    # incidents --------------------------------------------------------------------------------
    @abstractmethod
    def create_incident(self, incident: Incident) -> Incident:
        """Store a new incident; return it with its ``version``. An existing id is a conflict."""

    @abstractmethod
    def get_incident(self, incident_id: str, *, agencies: frozenset[str] | None = None) -> Incident | None:
        ...

    @abstractmethod
    def update_incident(self, incident: Incident, *, expected_version: str) -> Incident:
        """Replace the incident if its stored version is still ``expected_version``.

        Raises ``VersionConflict`` otherwise, and ``NotFound`` if it does not exist.
        """

    @abstractmethod
    def search_incidents(self, query: IncidentQuery) -> list[Incident]:
        """Ordered by ``query.sort`` (newest activity, ``last_seen``, first by default), then id."""

    @abstractmethod
    def count_incidents(self, query: IncidentQuery) -> int:
        """How many incidents match, ignoring ``limit`` and ``after``; counted by the store, not by reading them."""

    @abstractmethod
    def count_incidents_by(self, query: IncidentQuery, field_name: IncidentField, size: int = 10) -> dict[str, int]:
        """The ``size`` most frequent values of ``field_name`` among matching incidents (``limit`` and ``after``
        ignored), most frequent first, ties by value; incidents without a value are not counted."""

    # posture aggregations over the stored ``incident_facts`` (docs/decisions/0046) ----------------------------
    def posture_counts(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                       rules: PostureRules) -> dict[str, PostureCounts]:
        """Per agency (with any incident counted), ``PostureCounts`` over the unmerged incidents that are open or
        have ``last_seen >= since``, with the clocks of ``rules`` at ``now``: aggregated, no incident read."""
        raise NotImplementedError

    def posture_breakdown(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          top: int) -> PostureBreakdown:
        """The same incidents per Vietnam day detected and closed (days from ``since`` to ``now``), and the
        ``top`` systems and rules (most frequent first, ties by value) of those detected since ``since``."""
        raise NotImplementedError

    def posture_weeks(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime) -> list[WeekCounts]:
        """The same incidents week by week (``incident_facts.week_moments``), open ones counted at each week's end
        (at ``now`` for the current week) from their history."""
        raise NotImplementedError

    def overdue_incidents(self, agencies: frozenset[str] | None, *, since: datetime, now: datetime,
                          rules: PostureRules, limit: int = 1000) -> list[Incident]:
        """The same incidents that have at least one clock overdue at ``now``, detected first (then by id), at
        most ``limit``."""
        raise NotImplementedError

    def period_incidents(self, agencies: frozenset[str] | None, *, moment: PeriodMoment, start: datetime,
                         end: datetime, limit: int) -> PeriodIncidents:
        """The incidents whose ``moment`` (detection, or closing: ``period_incidents``) lies in ``[start, end)``:
        counted by the store, no document read but the ``limit`` most important (highest severity, then the
        earliest ``moment``, then id). For the monitoring report (docs/decisions/0046)."""
        raise NotImplementedError

    @abstractmethod
    def next_sequence(self, name: str) -> int:
        """1, 2, 3, … per name, never repeating, safe against concurrent callers."""

    # audit trail ------------------------------------------------------------------------------
    @abstractmethod
    def append_audit(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def list_audit(self, *, object_type: str | None = None, object_id: str | None = None,
                   agencies: frozenset[str] | None = None, limit: int = 100) -> list[AuditEntry]:
        """Oldest first."""

    # suppressions and issued API keys: small records kept whole --------------------------------
    @abstractmethod
    def _put_record(self, kind: str, record_id: str, agency: str | None, doc: dict[str, Any]) -> None:
        """Create or replace one record of ``kind``."""

    @abstractmethod
    def _get_record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def _list_records(self, kind: str, *, agencies: frozenset[str] | None, limit: int) -> list[dict[str, Any]]:
        """Records of ``kind`` whose agency is in ``agencies`` (None: all), ordered by id."""

    def put_suppression(self, suppression: Suppression) -> None:
        self._put_record("suppression", suppression.id, suppression.agency, suppression.to_doc())

    def get_suppression(self, suppression_id: str, *, agencies: frozenset[str] | None = None) -> Suppression | None:
        doc = self._get_record("suppression", suppression_id)
        if doc is None or (agencies is not None and doc.get("agency") not in agencies):
            return None
        return Suppression.model_validate(doc)

    def list_suppressions(self, *, agencies: frozenset[str] | None = None, limit: int = 1000) -> list[Suppression]:
        return [Suppression.model_validate(d) for d in self._list_records("suppression", agencies=agencies,
                                                                           limit=limit)]

    def put_api_key(self, key: ApiKeyRecord) -> None:
        self._put_record("api_key", key.sha256, key.agency, key.to_doc())

    def find_api_key(self, sha256: str) -> ApiKeyRecord | None:
        doc = self._get_record("api_key", sha256)
        return None if doc is None else ApiKeyRecord.model_validate(doc)

    def list_api_keys(self, *, limit: int = 1000) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.model_validate(d) for d in self._list_records("api_key", agencies=None, limit=limit)]

    # small state (collector checkpoints, model state) ---------------------------------------------
    @abstractmethod
    def get_state(self, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def put_state(self, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def list_state(self, prefix: str, *, limit: int = 1000) -> dict[str, dict[str, Any]]:
        """State entries whose key starts with ``prefix`` (e.g. every source's status), by key."""

    # chat outbox (storage/outbox.py) ------------------------------------------------------------
    @abstractmethod
    def put_chat_notices(self, notices: Sequence[ChatNotice]) -> int:
        """Add notices; one whose id is already there is left as it is. Returns how many were new. Written
        at once (not held by a unit of work): a notice must outlive a crash of the writer."""

    @abstractmethod
    def list_chat_notices(self, *, channel: str | None = None, limit: int = 1000) -> list[ChatNotice]:
        """Waiting notices, oldest first (``created``, then id); a notice removed is never listed again."""

    @abstractmethod
    def update_chat_notice(self, notice: ChatNotice) -> None:
        """Replace a waiting notice's delivery state (attempts, back-off, errors)."""

    @abstractmethod
    def delete_chat_notice(self, notice_id: str) -> None:
        """Remove a notice (delivered); removing one that is gone is not an error."""

    # batching ---------------------------------------------------------------------------------
    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Incident writes, audit entries and state written inside may be held and sent together when the
        unit ends (see ``UnitOfWork``); reads by the same thread see them. Units nest: an inner one sends its
        incident writes when it ends and hands the rest to the outer one."""
        yield UnitOfWork()

    #: Whether ``atomic()`` really keeps its writes together (a transaction). Where it does not, the pipeline
    #: checks stored alerts it sees again for an incident (a crash between the writes leaves them in none).
    atomic_writes = False

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Writes this thread makes inside are kept together or not at all, where the store can (SQLite: one
        transaction; a failed write inside is undone alone and its error raised as before). Elsewhere they are
        made one by one. Pipelines store alerts, their incidents and the chat notices of those in one: a crash
        between the three would leave an alert in no incident, or an incident nobody was told of, since the
        replayed lines find their alerts already stored. Nesting joins the outer block."""
        yield

    # housekeeping -----------------------------------------------------------------------------
    def delete_expired(self, before: datetime) -> int:
        """Delete events (by ``@timestamp``) and dead letters (by ``received``) older than ``before``; alerts,
        incidents and the audit trail are kept. Returns how many were deleted."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Make everything written so far visible to searches (a no-op where that is immediate)."""

    def reread_incidents(self) -> None:
        """Forget any process-local copy of incidents, so that the next grouping read sees what other processes
        wrote (a worker taking over a partition). A no-op where every read goes to the store."""

    def number_incidents_singly(self) -> None:
        """Allocate incident numbers one at a time instead of in per-process blocks, so that numbers stay
        consecutive while agencies move between processes (one conditional write per new incident). A no-op
        where numbers are never reserved ahead."""

    def catch_up_indexes(self) -> int:
        """Index what was written without its search index (SQLite's free-text index, kept off the write path;
        a search catches up by itself, this does it ahead of searches). Returns how many rows were indexed."""
        return 0

    def incidents_marker(self) -> int | None:
        """A number, read fresh from the store, that changes whenever any process creates, changes or deletes an
        incident: while it stays the same, so does every answer built from incidents. None where the store keeps
        no such number (answers built from incidents are then not kept)."""
        return None

    def close(self) -> None:
        """Release connections."""
