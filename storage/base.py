"""The storage contract every backend honours; ``tests/storage`` runs the same suite on each.

Scoping to an agency subtree is part of every query (``agencies``), so callers cannot forget it: the API
passes the caller's subtree, internal jobs pass ``None`` (all agencies).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from canhgac.model import Alert, AuditEntry, DeadLetter, Event, Incident, IncidentState, Severity


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


@dataclass(frozen=True)
class AlertQuery:
    start: datetime | None = None  # on last_seen
    end: datetime | None = None
    agencies: frozenset[str] | None = None
    rule_id: str | None = None
    min_severity: Severity | None = None
    limit: int = 100
    after: AlertCursor | None = None  # resume after this alert (newest first)


@dataclass(frozen=True)
class IncidentQuery:
    agencies: frozenset[str] | None = None
    states: frozenset[IncidentState] | None = None
    fingerprint: str | None = None
    rule_id: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    count: int


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


class Store(ABC):
    """Events, dead letters, alerts, incidents, the audit trail and small state, behind one API."""

    kind: str

    # events -----------------------------------------------------------------------------------
    @abstractmethod
    def put_events(self, events: Sequence[Event]) -> int:
        """Store events keyed by ``event.id``; return how many were new (a repeat is ignored)."""

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
        """Newest activity (``last_seen``) first."""

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

    # small state (collector checkpoints, model state) ---------------------------------------------
    @abstractmethod
    def get_state(self, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def put_state(self, key: str, value: dict[str, Any]) -> None: ...

    # housekeeping -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Make everything written so far visible to searches (a no-op where that is immediate)."""

    def close(self) -> None:
        """Release connections."""
