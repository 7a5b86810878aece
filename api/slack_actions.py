"""What a Slack member may do from chat, as the Canh Gác user they are mapped to: the same incident service, the
same lifecycle functions, the same scope rule and the same audit trail as the page — only the actor reads
``slack:U123 (nguyen.van.a)``. Every function answers with the text of the ephemeral reply and never raises for
a refusal: Slack shows an HTTP error as a bare "failed", which tells the person nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from canhgac.api import slack_replies as replies
from canhgac.api.auth import Principal, principal_for
from canhgac.core.config import Role, Settings
from canhgac.core.directory import Directory
from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import OPEN_STATES, Incident, IncidentState
from canhgac.incidents import lifecycle
from canhgac.incidents.models import InvalidChange
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import IncidentQuery
from fastapi import HTTPException

MINE_LIMIT = 15
#: Called after a change from Slack with the incident before and after and the actor, so the incident's thread
#: and top message follow (the outbox posts them; nothing here talks to Slack).
ChangeHook = Callable[[Incident, Incident, str], None]
#: Asks for the incident's next escalation step now (notifications/escalation) and says so in its thread.
EscalationHook = Callable[[Incident, str], None]


@dataclass(frozen=True)
class SlackActor:
    slack_id: str
    principal: Principal
    language: str

    @property
    def actor(self) -> str:
        """How the audit trail names them: the Slack member and the Canh Gác user together."""
        return f"slack:{self.slack_id} ({self.principal.name})"


def slack_actor(slack_id: str, settings: Settings, directory: Directory) -> SlackActor | None:
    """The mapped user, with the scope every caller of that role and agency gets; None when unmapped."""
    slack = settings.notifications.slack
    user = next((u for u in slack.users if u.slack_id == slack_id), None) if slack is not None else None
    if user is None:
        return None
    principal = principal_for(user.name, Role(user.role), user.agency, directory)
    return SlackActor(slack_id, principal, user.language or settings.notifications.language)


@dataclass
class SlackDesk:
    service: IncidentService
    on_change: ChangeHook
    on_escalate: EscalationHook
    public_url: str | None = None

    def acknowledge(self, who: SlackActor, incident_id: str) -> str:
        def ack(incident: Incident) -> Incident:
            return lifecycle.transition(incident, IncidentState.acknowledged, actor=who.actor, now=self.service.clock())

        return self._change(who, incident_id, "transition:acknowledged", ack,
                            lambda i: None if i.state is IncidentState.new else replies.say(
                                "already", who.language, id=i.id, state=replies.state_name(i, who.language)),
                            "acknowledged")

    def assign_me(self, who: SlackActor, incident_id: str) -> str:
        name = who.principal.name

        def assign(incident: Incident) -> Incident:
            return lifecycle.apply_fields(incident, {"assignee": name}, now=self.service.clock(),
                                          known_systems=frozenset())

        def refusal(incident: Incident) -> str | None:
            if not incident.state.is_open:
                return replies.say("not_open", who.language, id=incident.id,
                                   state=replies.state_name(incident, who.language))
            return replies.say("already_yours", who.language, id=incident.id) if incident.assignee == name else None

        return self._change(who, incident_id, "update", assign, refusal, "assigned", name=name)

    def escalate(self, who: SlackActor, incident_id: str) -> str:
        """Audited like a page action (the incident itself does not change: no new version); the escalation chain
        takes the next step at once."""
        language = who.language
        try:
            incident = self.service.get(incident_id, scope=who.principal.writable_scope())
        except HTTPException:
            return replies.say("read_only", language, role=who.principal.role.value)
        except NotFound:
            return replies.say("not_found", language, id=incident_id)
        if not incident.state.is_open:
            return replies.say("not_open", language, id=incident.id, state=replies.state_name(incident, language))
        self.service.audit(incident, "escalate", who.actor, None,
                           {"requested_by": who.actor, "state": incident.state.value,
                            "severity": incident.severity.value})
        self.on_escalate(incident, who.actor)
        return replies.say("escalated", language, id=incident.id)

    def status(self, who: SlackActor, incident_id: str) -> str:
        try:
            incident = self.service.get(incident_id, scope=who.principal.scope)
        except NotFound:
            return replies.say("not_found", who.language, id=incident_id)
        return replies.status(incident, who.language, self.public_url)

    def mine(self, who: SlackActor) -> str:
        query = IncidentQuery(agencies=who.principal.scope, states=frozenset(OPEN_STATES),
                              assignee=who.principal.name, sort="severity", limit=MINE_LIMIT + 1, read_only=True)
        found = self.service.store.search_incidents(query)
        return replies.mine(found[:MINE_LIMIT], who.language, more=len(found) > MINE_LIMIT)

    def _change(self, who: SlackActor, incident_id: str, action: str, mutate: Callable[[Incident], Incident],
                refusal: Callable[[Incident], str | None], done: str, **done_values: str) -> str:
        """Read, let ``refusal`` turn down a change that would do nothing, then apply it at the version read."""
        language = who.language
        try:
            scope = who.principal.writable_scope()
            current = self.service.get(incident_id, scope=scope)
            declined = refusal(current)
            if declined is not None:
                return declined
            stored = self.service.apply(current.id, scope=scope, expected_version=current.version or "*",
                                        actor=who.actor, action=action, mutate=mutate)
        except HTTPException:
            return replies.say("read_only", language, role=who.principal.role.value)
        except NotFound:
            return replies.say("not_found", language, id=incident_id)
        except VersionConflict:
            return replies.say("conflict", language, id=incident_id)
        except InvalidChange as exc:
            return replies.say("invalid", language, reason=exc.message)
        self.on_change(current, stored, who.actor)
        return replies.say(done, language, id=stored.id, **done_values)
