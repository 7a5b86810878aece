"""An analyst's verdict on a behaviour alert: "expected work" (công việc bình thường). The entity's baseline then
learns that window, and optionally a suppression keeps the same rule × agency × account from opening incidents
for some days. Both are audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal

from canhgac.api.auth import Principal
from canhgac.api.bodies import Body
from canhgac.api.schemas import AlertOut
from canhgac.core.errors import NotFound
from canhgac.core.model import Alert
from canhgac.detectors.behaviour.feedback import feedback_for, mark_expected
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.operations import create_suppression
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import Store
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import to_jsonable_python

BEHAVIOUR = "behaviour"
#: The entity fields a suppression from feedback matches: the account, and the calling system for API clients.
SUPPRESSED_ENTITIES = ("user.name", "egov.caller.system")
#: Behaviour alerts of one incident whose feedback the detail shows (newest first); one store read each.
FEEDBACK_SHOWN = 50


class FeedbackIn(Body):
    verdict: Literal["expected"] = Field(description="expected: the activity was the account's normal work")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="Why, e.g. \"đợt cao điểm cấp đổi giấy tờ\"")
    learn: bool = Field(True, description="Let the entity's baseline learn this window instead of leaving it out")
    suppress_days: Annotated[int, Field(ge=0, le=90)] = Field(
        0, description="Also suppress this rule × agency × account for this many days (SOC roles; 0: none)")


class FeedbackOut(BaseModel):
    """The stored feedback record (as the behaviour detector keeps it)."""

    model_config = ConfigDict(extra="allow")
    alert_id: str
    agency: str | None = None
    reason: str
    actor: str
    at: datetime
    learn: bool
    suppress_until: datetime | None = None
    suppression_id: str | None = Field(None, description="The suppression this request created, if any")


def _suppressed_entities(alert: Alert) -> dict[str, str]:
    entities = {name: alert.entities[name] for name in SUPPRESSED_ENTITIES if alert.entities.get(name)}
    if "user.name" not in entities:
        raise InvalidChange("body.suppress_days", "cảnh báo không nêu tài khoản nào để tạm ẩn — the alert names no "
                                                  "account to suppress")
    return entities


def mark_alert_expected(service: IncidentService, principal: Principal, alert_id: str,
                        body: FeedbackIn) -> FeedbackOut:
    scope = principal.writable_scope()
    if body.suppress_days:
        principal.require_soc("body.suppress_days", "tạm ẩn cảnh báo", "suppress alerts")
    found = service.store.get_alerts([alert_id], agencies=scope)
    if not found:
        raise NotFound("no such alert")
    alert = found[0]
    if alert.detector != BEHAVIOUR:
        raise HTTPException(409, f"chỉ cảnh báo hành vi (behaviour) mới đánh dấu được là công việc bình thường; "
                                 f"cảnh báo này của bộ phát hiện {alert.detector!r} — only behaviour alerts can be "
                                 f"marked as expected work")
    now = service.clock()
    until = now + timedelta(days=body.suppress_days) if body.suppress_days else None
    entities = _suppressed_entities(alert) if until else {}
    earlier = feedback_for(service.store, alert.id)
    if earlier is not None:  # a second verdict would have the baseline learn the window twice
        raise HTTPException(409, f"cảnh báo đã được {earlier.get('actor')} đánh dấu lúc {earlier.get('at')} — the "
                                 f"alert was already marked; suppress further alerts through /api/v1/suppressions")
    record = to_jsonable_python(mark_expected(service.store, alert, reason=body.reason, actor=principal.name,
                                              learn=body.learn, suppress_until=until, now=now))
    service.audit_object("alert", alert.id, alert.agency, "mark_expected", principal.name, None, record)
    suppression_id = None
    if until is not None:
        suppression = create_suppression(
            service, actor=principal.name, rule_id=alert.rule_id, agency=alert.agency, entities=entities,
            reason=f"Công việc bình thường (cảnh báo {alert.id}): {body.reason}", expires=until)
        suppression_id = suppression.id
    return FeedbackOut.model_validate({**record, "suppression_id": suppression_id})


def with_feedback(store: Store, alerts: Sequence[AlertOut]) -> list[AlertOut]:
    """The alerts, behaviour ones carrying ``details.feedback`` (their newest FEEDBACK_SHOWN)."""
    out = list(alerts)
    looked = 0
    for alert in out:
        if alert.detector != BEHAVIOUR or looked >= FEEDBACK_SHOWN:
            continue
        looked += 1
        record = feedback_for(store, alert.id)
        if record is not None:
            alert.details = {**alert.details, "feedback": to_jsonable_python(record)}
    return out
