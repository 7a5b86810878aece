"""The shared data model: events (flat ECS dicts), dead letters, alerts, incidents, audit entries.

Events are plain ``dict``s keyed by dotted Elastic Common Schema names (``"source.ip"``), because the
ingest path handles hundreds of thousands of them per second and Elasticsearch stores dotted keys as
the same object paths. Everything slower-moving is a pydantic model.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Event = dict[str, Any]

#: ECS fields every stored event has.
REQUIRED_EVENT_FIELDS = ("@timestamp", "event.id", "organization.id", "event.original")


def event_id(stream: str, offset: int, raw: bytes) -> str:
    """A stable id for the line ``raw`` found at byte ``offset`` of the log stream ``stream``.

    The line's bytes are part of the key so that a truncated-and-rewritten file never reuses the id of
    a different line at the same offset.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(stream.encode())
    digest.update(b"\0%d\0" % offset)
    digest.update(raw)
    return digest.hexdigest()


def stable_id(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z``, the form stored everywhere."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.low: 1, Severity.medium: 2, Severity.high: 3, Severity.critical: 4}


class IncidentState(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    investigating = "investigating"
    contained = "contained"
    resolved = "resolved"
    closed = "closed"

    @property
    def is_open(self) -> bool:
        return self not in (IncidentState.resolved, IncidentState.closed)


OPEN_STATES = tuple(s for s in IncidentState if s.is_open)


class Resolution(StrEnum):
    true_positive = "true_positive"
    false_positive = "false_positive"
    benign = "benign"
    duplicate = "duplicate"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    def to_doc(self) -> dict[str, Any]:
        """The JSON document a store keeps (datetimes as UTC ISO strings)."""
        return self.model_dump(mode="json", exclude={"version"} if "version" in type(self).model_fields
                               else None)


class DeadLetter(_Record):
    """A line that could not become an event, kept with where it came from and why."""

    id: str
    received: datetime
    source_format: str
    path: str
    offset: int
    reason: str
    raw: str
    agency: str | None = None


class Alert(_Record):
    """One detection: a rule (or model) matched one or more events."""

    id: str
    detector: str = "sigma"
    rule_id: str
    rule_title: str
    #: The rule's Vietnamese title (Sigma custom attribute ``title_vi``), when it has one.
    rule_title_vi: str | None = None
    #: The rule's ``name`` (Sigma), by which configuration may also refer to it.
    rule_name: str | None = None
    #: How the rule's alerts join incidents (Sigma custom attribute ``incident_grouping``), when it says.
    grouping: str | None = None
    severity: Severity
    tags: list[str] = Field(default_factory=list)
    agency: str
    system: str | None = None
    entities: dict[str, str] = Field(default_factory=dict)
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    event_ids: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    created: datetime = Field(default_factory=utcnow)

    @property
    def fingerprint(self) -> str:
        return "|".join((self.rule_id, self.agency, self.entities.get("source.ip", "")))


class IncidentCategory(StrEnum):
    """What the incident did; the serious-incident test (Decision 05/2017, Decree 85/2016) reads these."""

    outage = "outage"
    secret_data_leak = "secret_data_leak"
    personal_data_leak = "personal_data_leak"
    integrity_loss = "integrity_loss"
    loss_of_control = "loss_of_control"
    spread = "spread"
    attempt = "attempt"
    malware = "malware"
    defacement = "defacement"
    other = "other"


class TaskState(StrEnum):
    todo = "todo"
    doing = "doing"
    done = "done"
    cancelled = "cancelled"


class ObservableType(StrEnum):
    ip = "ip"
    domain = "domain"
    url = "url"
    hash = "hash"
    user = "user"
    email = "email"
    file = "file"
    other = "other"


class FilingKind(StrEnum):
    incident_notice = "incident_notice"
    breach_notice = "breach_notice"
    serious_initial_report = "serious_initial_report"


class StateChange(_Record):
    at: datetime
    actor: str
    from_state: IncidentState | None
    to_state: IncidentState
    resolution: Resolution | None = None
    reason: str | None = None


class Comment(_Record):
    id: str
    at: datetime
    author: str
    text: str
    to_chat: bool = False  # also posted in the incident's chat thread


class Task(_Record):
    id: str
    title: str
    state: TaskState = TaskState.todo
    assignee: str | None = None
    created: datetime
    updated: datetime


class Observable(_Record):
    id: str
    type: ObservableType
    value: str
    note: str = ""


class RuleHit(_Record):
    """One rule (or model) inside an incident: its alerts are shown once, with how many there were."""

    rule_id: str
    detector: str = "sigma"
    title: str
    title_vi: str | None = None
    severity: Severity
    count: int = 0  # events the rule's alerts counted (Alert.count summed)
    alerts: int = 0  # how many alerts of the rule joined
    first_seen: datetime
    last_seen: datetime


class Filing(_Record):
    """A legal notice or report that was sent, with its reason when it was late."""

    kind: FilingKind
    filed_at: datetime
    actor: str
    reference: str = ""
    late: bool = False
    late_reason: str | None = None


class SeriousOverride(_Record):
    serious: bool
    reason: str
    actor: str
    at: datetime


class BreachDetails(_Record):
    """The personal-data breach notice items (Decree 356/2025, Art. 28)."""

    occurred_at: datetime | None = None
    place: str = ""
    act: str = ""
    data_types: list[str] = Field(default_factory=list)
    records_affected: int | None = None
    data_subjects_affected: int | None = None
    consequences: str = ""
    mitigation: str = ""
    contact: str = ""


class Incident(_Record):
    """A group of alerts that an analyst handles as one case."""

    id: str
    agency: str
    system: str | None = None
    title: str  # Vietnamese when the rule has a Vietnamese title
    title_en: str | None = None  # the rule's own (English) title, for the English pages
    severity: Severity
    state: IncidentState = IncidentState.new
    resolution: Resolution | None = None
    assignee: str | None = None
    fingerprint: str
    rule_id: str  # the rule that opened the incident; ``rules`` lists every rule that joined
    rules: list[RuleHit] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    entities: dict[str, str] = Field(default_factory=dict)
    alert_ids: list[str] = Field(default_factory=list)
    alert_count: int = 0
    first_seen: datetime
    last_seen: datetime
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)
    #: When the incident was detected: the legal clocks run from here (not from ``created``).
    detected_at: datetime | None = None
    description: str = ""
    categories: list[IncidentCategory] = Field(default_factory=list)
    serious_override: SeriousOverride | None = None
    attack_tactics: list[str] = Field(default_factory=list)
    attack_techniques: list[str] = Field(default_factory=list)
    history: list[StateChange] = Field(default_factory=list)
    reopen_count: int = 0
    comments: list[Comment] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    observables: list[Observable] = Field(default_factory=list)
    filings: list[Filing] = Field(default_factory=list)
    handling_result: str = ""
    recommendations: str = ""
    breach: BreachDetails | None = None
    merged_into: str | None = None
    merged_from: list[str] = Field(default_factory=list)
    #: Opaque optimistic-concurrency token set by the store; not part of the stored document.
    version: str | None = None

    @property
    def detected(self) -> datetime:
        return self.detected_at or self.created


CLOSED_STATES = frozenset({IncidentState.resolved, IncidentState.closed})


def closed_at(incident: Incident) -> datetime | None:
    """When the incident last entered resolved or closed, if it is there now."""
    if incident.state not in CLOSED_STATES:
        return None
    for change in reversed(incident.history):
        if change.to_state in CLOSED_STATES and (change.from_state is None or change.from_state not in CLOSED_STATES):
            return change.at
    return incident.updated


def acknowledged_at(incident: Incident) -> datetime | None:
    """When the incident first left ``new``: the end of the time to acknowledge."""
    for change in incident.history:
        if change.from_state is IncidentState.new and change.to_state is not IncidentState.new:
            return change.at
    return None


class AuditEntry(_Record):
    """An append-only record of one change: who, when, what it was, what it became."""

    id: str
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    agency: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class Suppression(_Record):
    """Alerts of a rule × agency subtree × entity values are kept but open no incident until expiry."""

    id: str
    rule_id: str | None = None  # None: every rule
    agency: str | None = None  # None: every agency; else the agency and the agencies below it
    entities: dict[str, str] = Field(default_factory=dict)
    reason: str
    author: str
    created: datetime
    expires: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def active(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires


class ApiKeyRecord(_Record):
    """An API key issued through the API; only its SHA-256 is kept."""

    id: str
    name: str
    sha256: str
    role: str
    agency: str | None = None
    created: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
