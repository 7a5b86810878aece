"""What the planner hands out: the notices to send and the state that records them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NoticeKind(StrEnum):
    page = "page"  # the on-call person is told of a new unacknowledged incident
    next_person = "next_person"
    channel = "channel"
    soc_lead = "soc_lead"
    requested = "requested"  # someone pressed "escalate"
    reminder = "reminder"  # a legal deadline is near
    overdue = "overdue"  # a legal deadline passed without a filing
    digest = "digest"


@dataclass(frozen=True)
class Notice:
    """One message. ``key`` is unique per notice ever planned (the outbox's de-duplication key)."""

    key: str
    kind: NoticeKind
    channel: str
    text: str
    incident_id: str | None = None
    in_thread: bool = False  # a reply in the incident's thread; otherwise a message of its own in the channel
    mention: str | None = None  # the Slack member id the text mentions, if any
    agency: str | None = None  # whose notice it is (the incident's agency; a digest's single agency)


@dataclass
class Plan:
    notices: list[Notice] = field(default_factory=list)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # store key → new value, only what changed
