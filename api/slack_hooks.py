"""What follows a change made from Slack, wired to the notifications package: the outbox posts the change in
the incident's thread and updates its top message; an escalation request goes to the escalation planner."""

from __future__ import annotations

from canhgac.api.slack_actions import ChangeHook, EscalationHook
from canhgac.core.model import Incident
from canhgac.incidents.service import IncidentService
from canhgac.notifications.chat.writer import incident_changed, post_in_thread
from canhgac.notifications.escalation import request_escalation
from canhgac.notifications.slack.messages import escape

ESCALATED = {"vi": "⏫ {who} yêu cầu báo cấp trên từ Slack.", "en": "⏫ {who} asked to escalate from Slack."}


def change_hook(service: IncidentService) -> ChangeHook:
    def changed(before: Incident, after: Incident, actor: str) -> None:
        # The service's own observers may have queued it already: same notice ids, no doubles.
        incident_changed(service.store, service.settings, service.directory, before, after, actor)

    return changed


def escalation_hook(service: IncidentService) -> EscalationHook:
    def escalate(incident: Incident, actor: str) -> None:
        # The actor is ours (a Slack id of a checked pattern and a configured name): escaped, not defanged.
        at = service.clock()
        request_escalation(service.store, incident.id, actor=actor, at=at)
        text = ESCALATED.get(service.settings.notifications.language, ESCALATED["vi"])
        post_in_thread(service.store, service.settings, service.directory, incident,
                       key=f"escalate:{at.isoformat()}", mrkdwn=text.format(who=escape(actor)))

    return escalate
