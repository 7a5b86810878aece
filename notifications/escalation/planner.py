"""The planner: from the time, the open incidents, what was already sent and the configuration, the notices to
send now and the state that records them. Pure: no clock, no store, no Slack (docs/decisions/0042).

An unacknowledged incident (still ``new``) pages the person on call, then climbs the policy's steps — the next
person, the channel, the SOC lead — each once, counted from the page. Leaving ``new`` stops the chain. Before
each legal deadline the incident's thread is reminded once per configured lead time, and once more if the
deadline passes without a filing. Quiet hours hold notices of quiet severities until they end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from canhgac.core.config import Settings
from canhgac.core.config_oncall import EscalationTarget, OnCallPolicy
from canhgac.core.directory import Directory
from canhgac.core.model import Incident, IncidentState, to_utc_iso
from canhgac.core.timeutil import VIETNAM
from canhgac.incidents.clocks import LEGAL_KINDS, Clock, ClockStatus, clocks
from canhgac.incidents.serious import assess
from canhgac.notifications.escalation import texts
from canhgac.notifications.escalation.digest import plan_digests
from canhgac.notifications.escalation.models import Notice, NoticeKind, Plan
from canhgac.notifications.escalation.rotation import People, on_call, policy_for
from canhgac.notifications.escalation.state import (
    EscalationRequest,
    IncidentEscalation,
    digest_key,
    incident_key,
    request_key,
)


@dataclass(frozen=True)
class Context:
    now: datetime
    settings: Settings
    directory: Directory
    people: People

    @property
    def language(self) -> str:
        return self.settings.notifications.language

    def held(self, incident: Incident) -> bool:
        quiet = self.settings.notifications.escalation.quiet_hours
        return quiet is not None and quiet.holds(self.now.astimezone(VIETNAM).time(), incident.severity)

    def quiet_ends(self) -> datetime:
        """The next end of quiet hours after now (meaningful only while they hold)."""
        quiet = self.settings.notifications.escalation.quiet_hours
        local = self.now.astimezone(VIETNAM)
        end = datetime.combine(local.date(), quiet.end if quiet else local.time(), tzinfo=VIETNAM)
        return end if end > local else end + timedelta(days=1)

    def on_call(self, policy: OnCallPolicy, *, ahead: int = 0) -> str:
        return self.people.slack_id(on_call(policy.rotation, self.now, ahead=ahead))


def plan(*, now: datetime, incidents: Sequence[Incident], states: Mapping[str, dict[str, Any]],
         settings: Settings, directory: Directory) -> Plan:
    """``states``: the store's entries named by ``state_keys`` (absent keys: nothing sent yet)."""
    context = Context(now, settings, directory, People(settings))
    out = Plan()
    policies = settings.notifications.oncall
    for incident in incidents:
        if not incident.state.is_open:
            continue
        policy = policy_for(incident, policies, directory)
        if policy is None:
            continue
        key = incident_key(incident.id)
        before = states.get(key)
        state = IncidentEscalation.from_doc(before)
        chain = chain_id(incident, policy)
        if state.chain != chain:  # first sight, another policy (the severity changed), or back to new (reopened)
            state = IncidentEscalation(chain=chain, reminders=state.reminders, request_done=state.request_done)
        request = EscalationRequest.from_doc(states.get(request_key(incident.id)))
        out.notices += _plan_incident(context, incident, policy, state, request)
        if state.to_doc() != (before or IncidentEscalation().to_doc()):
            out.states[key] = state.to_doc()
    digests = plan_digests(now=now, incidents=incidents, states=states, settings=settings, directory=directory,
                           people=context.people)
    out.notices += digests.notices
    out.states.update(digests.states)
    return out


def state_keys(incidents: Sequence[Incident], settings: Settings, directory: Directory) -> list[str]:
    """The state entries ``plan`` reads for these incidents: read one by one, because the entries of closed
    incidents stay in the store and a listing by prefix would grow without end."""
    keys = [digest_key(policy.name) for policy in settings.notifications.oncall]
    for incident in incidents:
        if incident.state.is_open and policy_for(incident, settings.notifications.oncall, directory) is not None:
            keys += [incident_key(incident.id), request_key(incident.id)]
    return keys


def _plan_incident(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation,
                   request: EscalationRequest | None) -> list[Notice]:
    notices: list[Notice] = []
    if request is not None and request.pending(state):
        notices.append(_requested(context, incident, policy, state, request))
    if incident.state is IncidentState.new:
        notices += _chain(context, incident, policy, state)
    elif state.stopped_at is None:
        state.stopped_at = context.now  # acknowledged: whatever of the chain is left is never sent
    return notices + _reminders(context, incident, policy, state)


def _chain(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation) -> list[Notice]:
    if context.held(incident):
        return []
    if state.paged_at is None:
        state.paged_at, state.paged = context.now, context.on_call(policy)
        return [_thread_notice(incident, policy, f"page:{chain_id(incident, policy)}", NoticeKind.page,
                               texts.page_text(incident, state.paged, context.language), state.paged)]
    notices = []
    for index, offset in enumerate(policy.step_offsets(incident.severity)):
        if index in state.steps_sent or context.now < state.paged_at + timedelta(minutes=offset):
            continue
        state.steps_sent.append(index)
        notices.append(_step(context, incident, policy, state, index, offset))
    return notices


def chain_id(incident: Incident, policy: OnCallPolicy) -> str:
    """Names one chain in the notices' keys, from the incident alone (not from the time of the run), so that a run
    whose state was not saved plans the same keys again and the outbox keeps one notice of each: the policy and
    when the incident last became ``new`` (opened or reopened)."""
    became_new = next((change.at for change in reversed(incident.history) if change.to_state is IncidentState.new),
                      incident.created)
    return f"{policy.name}:{to_utc_iso(became_new)}"


def _step(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation, index: int,
          minutes: int) -> Notice:
    language = context.language
    key = f"step:{index}:{chain_id(incident, policy)}"
    target = policy.steps[index].to
    if target is EscalationTarget.next:
        person = context.on_call(policy, ahead=1)
        return _thread_notice(incident, policy, key, NoticeKind.next_person,
                              texts.next_person_text(incident, person, minutes, language), person)
    if target is EscalationTarget.channel:
        person = context.on_call(policy)
        return Notice(key=f"{incident.id}:{key}", kind=NoticeKind.channel, channel=policy.channel,
                      text=texts.channel_text(incident, person, minutes, language), incident_id=incident.id,
                      mention=person, agency=incident.agency)
    lead = context.people.slack_id(policy.soc_lead or "")
    return _thread_notice(incident, policy, key, NoticeKind.soc_lead,
                          texts.lead_text(incident, lead, minutes, language), lead)


def _requested(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation,
               request: EscalationRequest) -> Notice:
    """Someone asked to escalate: the next step's person now (the SOC lead once the people are used up)."""
    state.request_done = request.at
    remaining = [i for i, step in enumerate(policy.steps) if i not in state.steps_sent
                 and step.to is not EscalationTarget.channel]
    if remaining:
        state.steps_sent.append(remaining[0])
    target = policy.steps[remaining[0]].to if remaining else EscalationTarget.soc_lead
    if target is EscalationTarget.soc_lead and policy.soc_lead is not None:
        person = context.people.slack_id(policy.soc_lead)
    else:
        person = context.on_call(policy, ahead=1)
    return _thread_notice(incident, policy, f"request:{to_utc_iso(request.at)}", NoticeKind.requested,
                          texts.requested_text(incident, person, request.actor, context.language), person)


def _reminders(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation) -> list[Notice]:
    serious = assess(incident, context.directory, context.settings).serious
    lead_times = sorted(set(context.settings.notifications.escalation.reminder_hours))
    notices = []
    for clock in clocks(incident, context.settings, context.now, serious=serious):
        if clock.kind not in LEGAL_KINDS or clock.done_at is not None:
            continue
        if context.held(incident) and (clock.overdue or clock.due > context.quiet_ends()):
            continue  # it can wait for the morning: it is either late already or still in time then
        notice = _clock_notice(context, incident, policy, state, clock, lead_times)
        if notice is not None:
            notices.append(notice)
    return notices


def _clock_notice(context: Context, incident: Incident, policy: OnCallPolicy, state: IncidentEscalation,
                  clock: Clock, lead_times: list[float]) -> Notice | None:
    """At most one notice per clock per run: the most urgent lead time reached (the earlier ones, if missed while
    Canh Gác was stopped, are marked as sent), or the deadline passed."""
    due = to_utc_iso(clock.due)
    person = context.on_call(policy)
    if clock.status is ClockStatus.overdue:
        mark = f"{clock.kind.value}@{due}:overdue"
        if mark in state.reminders:
            return None
        state.reminders.append(mark)
        return _thread_notice(incident, policy, f"clock:{mark}", NoticeKind.overdue,
                              texts.overdue_text(incident, clock.kind, clock.due, person, context.language), person)
    reached = [hours for hours in lead_times if context.now >= clock.due - timedelta(hours=hours)]
    marks = [f"{clock.kind.value}@{due}:{hours:g}h" for hours in reached]
    if not reached or all(mark in state.reminders for mark in marks):
        return None
    state.reminders += [mark for mark in marks if mark not in state.reminders]
    left = (clock.due - context.now).total_seconds() / 3600
    return _thread_notice(incident, policy, f"clock:{marks[0]}", NoticeKind.reminder,
                          texts.reminder_text(incident, clock.kind, clock.due, round(left, 1), person,
                                              context.language), person)


def _thread_notice(incident: Incident, policy: OnCallPolicy, key: str, kind: NoticeKind, text: str,
                   person: str) -> Notice:
    return Notice(key=f"{incident.id}:{key}", kind=kind, channel=policy.channel, text=text, incident_id=incident.id,
                  in_thread=True, mention=person, agency=incident.agency)
