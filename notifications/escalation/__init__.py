"""On-call escalation: rotations, the escalation chain, legal-deadline reminders, quiet hours and the morning
digest (docs/decisions/0042-on-call-escalation.md). Notices go to the outbox, never straight to Slack."""

from canhgac.notifications.escalation.models import Notice, NoticeKind, Plan
from canhgac.notifications.escalation.planner import plan
from canhgac.notifications.escalation.requests import request_escalation

__all__ = ["Notice", "NoticeKind", "Plan", "plan", "request_escalation"]
