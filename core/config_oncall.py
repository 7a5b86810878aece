"""On-call configuration (``notifications.oncall`` and ``notifications.escalation``): who is on call for which
agency subtree, how an unacknowledged incident climbs the chain, reminders before the legal deadlines, quiet
hours and the morning digest (docs/decisions/0042-on-call-escalation.md).

Times of day are local to Asia/Ho_Chi_Minh, like everything shown to people.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated

from canhgac.core.config_base import StrictModel
from canhgac.core.model import Severity
from pydantic import Field, field_validator, model_validator

#: A Slack member id (``U0123ABCD``; ``W…`` on Enterprise Grid). Anything else names a mapped Slack user.
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
TimeOfDay = Annotated[time, Field(description="Local time of day (Asia/Ho_Chi_Minh), e.g. \"08:00\"")]


class EscalationTarget(StrEnum):
    next = "next"  # the person on call after the current one
    channel = "channel"  # the policy's channel, as a message of its own (no mention)
    soc_lead = "soc_lead"


class Rotation(StrictModel):
    people: Annotated[list[str], Field(min_length=1, description=(
        "Slack member ids (U…) or names of notifications.slack.users, in turn order"))]
    shift_hours: Annotated[int, Field(ge=1, le=24 * 14)] = 24
    handover: TimeOfDay = time(8, 0)
    starts: date = Field(date(2026, 1, 1), description="The day people[0] takes the first shift at handover")

    @field_validator("handover", mode="before")
    @classmethod
    def _hours_and_minutes(cls, value: object) -> object:
        return _time_of_day(value)


class EscalationStep(StrictModel):
    after_minutes: Annotated[int, Field(ge=1, description="Minutes after the on-call person was paged")]
    to: EscalationTarget


class OnCallPolicy(StrictModel):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    agencies: list[str] = Field(default_factory=list, description="Agency subtrees; empty means all")
    min_severity: Severity = Severity.high
    rotation: Rotation
    steps: list[EscalationStep] = Field(default_factory=lambda: [
        EscalationStep(after_minutes=15, to=EscalationTarget.next),
        EscalationStep(after_minutes=30, to=EscalationTarget.channel),
        EscalationStep(after_minutes=60, to=EscalationTarget.soc_lead)])
    ack_timeout_minutes: dict[Severity, Annotated[int, Field(ge=1)]] = Field(default_factory=dict, description=(
        "Per severity, the minutes before the first step; later steps keep their distance from the first"))
    channel: Annotated[str, Field(min_length=1, description="Where incidents' threads and the digest are")]
    soc_lead: str | None = Field(None, description="Slack member id or mapped user name")

    @model_validator(mode="after")
    def _steps_climb(self) -> OnCallPolicy:
        minutes = [step.after_minutes for step in self.steps]
        if minutes != sorted(set(minutes)):
            raise ValueError("steps: after_minutes must grow from one step to the next")
        if any(step.to is EscalationTarget.soc_lead for step in self.steps) and self.soc_lead is None:
            raise ValueError("a step goes to soc_lead but soc_lead is not set")
        return self

    def step_offsets(self, severity: Severity) -> list[int]:
        """Minutes after the page at which each step is due for an incident of ``severity``."""
        if not self.steps:
            return []
        shift = self.ack_timeout_minutes.get(severity, self.steps[0].after_minutes) - self.steps[0].after_minutes
        return [step.after_minutes + shift for step in self.steps]


class QuietHours(StrictModel):
    start: TimeOfDay = time(22, 0)
    end: TimeOfDay = time(6, 0)
    severities: list[Severity] = Field(default_factory=lambda: [Severity.low, Severity.medium])

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hours_and_minutes(cls, value: object) -> object:
        return _time_of_day(value)

    def holds(self, moment: time, severity: Severity) -> bool:
        """Whether a notice of ``severity`` waits at local time ``moment``."""
        if severity not in self.severities or self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Digest(StrictModel):
    enabled: bool = True
    at: TimeOfDay = time(7, 30)

    @field_validator("at", mode="before")
    @classmethod
    def _hours_and_minutes(cls, value: object) -> object:
        return _time_of_day(value)


class EscalationSettings(StrictModel):
    reminder_hours: Annotated[list[Annotated[float, Field(gt=0)]], Field(description=(
        "Hours before each legal deadline (5-day notice, 72 h breach notice, serious-incident report) "
        "at which the incident's thread is reminded, once each"))] = Field(default_factory=lambda: [24.0, 2.0])
    quiet_hours: QuietHours | None = QuietHours()
    digest: Digest = Digest()


def _time_of_day(value: object) -> object:
    # YAML reads 08:00 unquoted as the sexagesimal integer 480; take it as minutes after midnight.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


def slack_id_for(person: str, mapped: dict[str, str]) -> str | None:
    """A rotation entry as a Slack member id: itself when it is one, else the mapped user's id."""
    if SLACK_ID.match(person):
        return person
    return mapped.get(person)


def oncall_reference_problems(policies: list[OnCallPolicy], agency_ids: set[str],
                              mapped: dict[str, str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Agencies that must exist and people who must be Slack ids or mapped users (checked with the file)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    names: set[str] = set()
    for index, policy in enumerate(policies):
        where: tuple[str | int, ...] = ("notifications", "oncall", index)
        if policy.name in names:
            problems.append(((*where, "name"), f"duplicate on-call policy {policy.name!r}"))
        names.add(policy.name)
        for item, agency_id in enumerate(policy.agencies):
            if agency_id not in agency_ids:
                problems.append(((*where, "agencies", item), f"unknown agency {agency_id!r}"))
        for item, person in enumerate(policy.rotation.people):
            if slack_id_for(person, mapped) is None:
                problems.append(((*where, "rotation", "people", item), _unknown_person(person)))
        if policy.soc_lead is not None and slack_id_for(policy.soc_lead, mapped) is None:
            problems.append(((*where, "soc_lead"), _unknown_person(policy.soc_lead)))
    return problems


def _unknown_person(person: str) -> str:
    return f"{person!r} is neither a Slack member id (U…) nor the name of a notifications.slack.users entry"
