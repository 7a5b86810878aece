"""Facts about one incident that posture aggregations filter on, stored beside the incident by both stores.

Every fact is a function of the incident document alone — never of settings or of the directory — so a change
of SLA minutes, deadlines or systems' security levels never makes a stored fact stale: those come in as
bounds of the aggregation's filters (``PostureRules``). Times are epoch milliseconds (the stored precision);
``*_after`` is the time from detection to what the clock waits for, or None while it has not happened
(docs/decisions/0046-posture-by-aggregation.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from canhgac.core.model import (
    CLOSED_STATES,
    OPEN_STATES,
    FilingKind,
    Incident,
    IncidentCategory,
    IncidentState,
    Severity,
    acknowledged_at,
    closed_at,
)
from canhgac.core.timeutil import VIETNAM

#: Raised when what a fact means changes: stored incidents with an older version are recomputed on open.
FACTS_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    """Epoch milliseconds, truncated as the stored ISO form truncates (``to_utc_iso``)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class IncidentFacts:
    detected: int
    closed: int | None  # when it last entered resolved/closed, if it is there now
    ack_after: int | None  # detection → first leaving ``new``
    resolve_after: int | None  # detection → ``closed``
    notice_after: int | None  # detection → first incident notice filed
    breach_after: int | None
    serious_after: int | None  # detection → first serious-incident initial report
    breach: bool  # a personal-data leak: the breach notice clock applies
    categories: list[str]
    resolution: str | None
    override: bool | None  # the analysts' serious flag, when they set one
    merged: bool
    #: When it was resolved or closed, per history: ``(a, b)`` — closed at ``m`` iff ``a < m <= b`` (b None:
    #: still), in the ms of the history's times, as a moment ``m`` sees a change made strictly before it.
    closed_spans: list[tuple[int, int | None]] = field(default_factory=list)
    v: int = FACTS_VERSION

    def to_doc(self) -> dict[str, object]:
        """The Elasticsearch form: spans as ``long_range`` values."""
        doc = asdict(self)
        doc["closed_spans"] = [{"gt": a} if b is None else {"gt": a, "lte": b} for a, b in self.closed_spans]
        return doc




def facts_of(incident: Incident) -> IncidentFacts:
    detected = ms(incident.detected)

    def after(moment: datetime | None) -> int | None:
        return None if moment is None else ms(moment) - detected

    def filed(kind: FilingKind) -> int | None:
        times = [f.filed_at for f in incident.filings if f.kind is kind]
        return after(min(times)) if times else None

    closed = closed_at(incident)
    override = incident.serious_override
    changes = incident.history
    spans = [(ms(change.at), ms(changes[n + 1].at) if n + 1 < len(changes) else None)
             for n, change in enumerate(changes) if change.to_state in CLOSED_STATES]
    # a state left within the same millisecond it was entered holds no moment (and is no valid range)
    spans = [(a, b) for a, b in spans if b is None or b > a]
    return IncidentFacts(
        detected=detected, closed=None if closed is None else ms(closed), ack_after=after(acknowledged_at(incident)),
        resolve_after=after(closed), notice_after=filed(FilingKind.incident_notice),
        breach_after=filed(FilingKind.breach_notice), serious_after=filed(FilingKind.serious_initial_report),
        breach=IncidentCategory.personal_data_leak in incident.categories,
        categories=sorted(c.value for c in incident.categories),
        resolution=None if incident.resolution is None else incident.resolution.value,
        override=None if override is None else override.serious, merged=incident.merged_into is not None,
        closed_spans=spans)


@dataclass(frozen=True)
class PostureRules:
    """What the clocks and the serious flag take from configuration and the directory, as aggregation bounds."""

    acknowledge: Mapping[Severity, timedelta]
    resolve: Mapping[Severity, timedelta]
    incident_notice: timedelta
    breach_notice: timedelta
    serious_report: timedelta
    exempt_resolutions: frozenset[str]
    serious_systems: frozenset[str]  # systems of a security level the serious test names
    serious_categories: frozenset[str]


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def met_below(due_after: timedelta) -> int:
    """Done in time (``done < detected + due_after``) ⇔ ``*_after < met_below(due_after)``, in whole ms."""
    return -(-(due_after // timedelta(microseconds=1)) // 1000)


def due_by(now: datetime, due_after: timedelta) -> int:
    """Due at ``now`` (``now >= detected + due_after``) ⇔ ``detected <= due_by(now, due_after)``."""
    return (_us(now) - due_after // timedelta(microseconds=1)) // 1000


def detected_from(since: datetime) -> int:
    """``detected >= since`` ⇔ ``facts.detected >= detected_from(since)``."""
    return -(-_us(since) // 1000)


CLOCK_KINDS = ("acknowledge", "resolve", "incident_notice", "breach_notice", "serious_initial_report")


@dataclass
class PostureCounts:
    """One agency's figures for the posture score: over its unmerged incidents that are open or were active in
    the period (``overdue`` per clock kind); the SLA and mean-time parts over those detected in the period."""

    open_by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    open_by_state: dict[IncidentState, int] = field(default_factory=lambda: dict.fromkeys(OPEN_STATES, 0))
    serious_open: int = 0
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLOCK_KINDS, 0))
    sla_met: int = 0
    sla_missed: int = 0
    ack_total_ms: int = 0
    ack_count: int = 0
    resolve_total_ms: int = 0
    resolve_count: int = 0

    def add(self, other: PostureCounts) -> None:
        for mine, theirs in ((self.open_by_severity, other.open_by_severity),
                             (self.open_by_state, other.open_by_state), (self.overdue, other.overdue)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n  # type: ignore[index]
        for name in ("serious_open", "sla_met", "sla_missed", "ack_total_ms", "ack_count", "resolve_total_ms",
                     "resolve_count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PostureBreakdown:
    """The posture view's lists over a subtree: incidents detected and closed per Vietnam day (of the open or
    active ones), and the most frequent systems and opening rules of those detected in the period."""

    opened_by_day: dict[date, int] = field(default_factory=dict)
    closed_by_day: dict[date, int] = field(default_factory=dict)
    systems: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)


#: Vietnam has kept UTC+7 since 1975: a local day is a fixed 24 h bucket, shifted by 7 hours.
VIETNAM_OFFSET_MS = 7 * 3600 * 1000
DAY_MS = 86_400_000


WEEK_MS = 7 * DAY_MS
#: Weeks begin on Monday 00:00 in Vietnam: the epoch was a Thursday, so 4 days in, less 7 hours.
WEEK_OFFSET_MS = 4 * DAY_MS - VIETNAM_OFFSET_MS


def vietnam_day(epoch_ms: int) -> date:
    return date(1970, 1, 1) + timedelta(days=(epoch_ms + VIETNAM_OFFSET_MS) // DAY_MS)


@dataclass
class WeekCounts:
    """One week of the posture view: incidents detected in it, the mean-time sums of those, and how many were
    open (detected and neither resolved nor closed, per history) at its end or at ``now``."""

    start: date
    opened: int = 0
    open_at_end: int = 0
    ack_total_ms: int = 0
    ack_count: int = 0
    resolve_total_ms: int = 0
    resolve_count: int = 0


def week_moments(since: datetime, now: datetime) -> list[tuple[date, datetime, datetime]]:
    """Each week from the Monday of ``since``'s week (Vietnam time) to ``now``: its Monday, start and end."""
    first = since.astimezone(VIETNAM).date()
    first -= timedelta(days=first.weekday())
    last = now.astimezone(VIETNAM).date()
    out = []
    while first <= last:
        begin = datetime.combine(first, datetime.min.time(), VIETNAM)
        out.append((first, begin, begin + timedelta(days=7)))
        first += timedelta(days=7)
    return out
