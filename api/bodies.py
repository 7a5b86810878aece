"""Request bodies. Unknown fields are refused (422 naming them), times must carry a zone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from canhgac.api.params import FIRST_YEAR, within_calendar
from canhgac.core.config import Role
from canhgac.core.model import (
    BreachDetails,
    FilingKind,
    IncidentCategory,
    IncidentState,
    ObservableType,
    Resolution,
    Severity,
    TaskState,
)
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=10_000)]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Name = Annotated[str, Field(min_length=1, max_length=128)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Ident = Annotated[str, Field(min_length=1, max_length=128)]


def _in_calendar(moment: datetime) -> datetime:
    if not within_calendar(moment):
        raise ValueError(f"outside the calendar the stores keep (years {FIRST_YEAR}–9999 in UTC)")
    return moment


#: A time with a zone that the stores can keep and every clock can compute with (posture, reports).
Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreate(Body):
    agency: Annotated[str, Field(min_length=1, max_length=64)]
    title: Title
    severity: Severity
    system: Ident | None = None
    description: Text = ""
    detected_at: Moment | None = Field(None, description="Default: now")
    categories: Annotated[list[IncidentCategory], Field(max_length=10)] = Field(default_factory=list)


class IncidentPatch(Body):
    """Only the fields sent change; ``assignee: null`` unassigns."""

    title: Title | None = None
    description: Text | None = None
    severity: Severity | None = None
    assignee: Name | None = None
    system: Ident | None = None
    categories: Annotated[list[IncidentCategory], Field(max_length=10)] | None = None
    attack_tactics: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=20)] | None = None
    attack_techniques: Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=50)] | None = None
    detected_at: Moment | None = None
    handling_result: Text | None = None
    recommendations: Text | None = None
    breach: BreachDetails | None = None


#: Fields only the SOC may change: the legal clocks and the posture score count from them.
SOC_ONLY = {"detected_at": ("sửa thời điểm phát hiện", "change the detection time")}
NOT_NULL = ("title", "description", "severity", "categories", "attack_tactics", "attack_techniques",
            "handling_result", "recommendations")


class TransitionIn(Body):
    state: IncidentState
    resolution: Resolution | None = None
    reason: Reason | None = None


class ReopenIn(Body):
    reason: Reason


class CommentIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    to_chat: bool = Field(False, description="Also post the comment in the incident's Slack thread")


class TaskIn(Body):
    title: Title
    assignee: Name | None = None


class TaskPatch(Body):
    title: Title | None = None
    state: TaskState | None = None
    assignee: Name | None = None


class ObservableIn(Body):
    type: ObservableType
    value: Annotated[str, Field(min_length=1, max_length=2048)]
    note: Annotated[str, Field(max_length=2000)] = ""


class SeriousIn(Body):
    serious: bool | None = Field(description="true or false overrides the computed flag; null removes the override")
    reason: Reason


class FilingIn(Body):
    kind: FilingKind
    filed_at: Moment | None = Field(None, description="Default: now")
    reference: Annotated[str, Field(max_length=300)] = ""
    late_reason: Reason | None = Field(None, description="Required when filed after the deadline")


class MergeIn(Body):
    source_ids: Annotated[list[Ident], Field(min_length=1, max_length=50)]


class SplitIn(Body):
    alert_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=200)]
    title: Title | None = None


class BulkIn(Body):
    """One action on many incidents; the reason is kept in each incident's audit trail."""

    ids: Annotated[list[Ident], Field(min_length=1, max_length=200)]
    action: Literal["acknowledge", "assign", "close"]
    assignee: Name | None = Field(None, description="Required to assign")
    resolution: Resolution | None = Field(None, description="Required to close")
    reason: Reason


class SuppressionIn(Body):
    rule_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(None, description="null: every rule")
    agency: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="This agency and those below it; null: every agency")
    entities: Annotated[dict[Annotated[str, Field(min_length=1, max_length=100)],
                             Annotated[str, Field(max_length=1000)]], Field(max_length=10)] = Field(
        default_factory=dict, description="Entity values that must all match, e.g. {\"source.ip\": \"…\"}")
    reason: Reason
    expires: Moment


class ApiKeyIn(Body):
    name: Name
    role: Role
    agency: Annotated[str, Field(min_length=1, max_length=64)] | None = None
