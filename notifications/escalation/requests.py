"""Asking for an escalation now (the Slack "escalate" button, ``/canhgac``): recorded, sent by the next run."""

from __future__ import annotations

from datetime import datetime

from canhgac.notifications.escalation.state import EscalationRequest, request_key
from canhgac.storage.base import Store


def request_escalation(store: Store, incident_id: str, *, actor: str, at: datetime) -> None:
    """The planner's next run (within a minute) sends the incident's next escalation step at once, whatever its
    schedule and quiet hours. Nothing is sent from here; the caller audits the action."""
    store.put_state(request_key(incident_id), EscalationRequest(at, actor).to_doc())
