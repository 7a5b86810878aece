"""The escalation job: every minute in ``serve``, read the open incidents and what was sent, plan, write the notices
to the outbox, then record them. Notices carry deterministic keys, so a run cut short between the two writes
is repeated by the next one without a double."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import OPEN_STATES, Incident, utcnow
from canhgac.incidents.posture import iter_incidents
from canhgac.notifications.escalation.models import Notice, Plan
from canhgac.notifications.escalation.planner import plan, state_keys
from canhgac.storage.base import IncidentQuery, Store

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60
PAGE = 500
#: Writes one notice somewhere (the outbox); the incident is given for thread replies.
Deliver = Callable[[Notice, Incident | None], object]


def run_escalation(store: Store, settings: Settings, directory: Directory, deliver: Deliver, *,
                   now: datetime) -> Plan:
    if not settings.notifications.oncall:
        return Plan()
    query = IncidentQuery(states=frozenset(OPEN_STATES), limit=PAGE, sort="id", descending=False)
    incidents = [i for i in iter_incidents(store, query) if i.merged_into is None]
    states = {key: value for key in state_keys(incidents, settings, directory)
              if (value := store.get_state(key)) is not None}
    result = plan(now=now, incidents=incidents, states=states, settings=settings, directory=directory)
    by_id = {incident.id: incident for incident in incidents}
    for notice in result.notices:
        deliver(notice, by_id.get(notice.incident_id or ""))
    for key, value in result.states.items():
        store.put_state(key, value)
    return result


def outbox_delivery(store: Store, settings: Settings, directory: Directory) -> Deliver:
    """Into the chat outbox (``notifications.chat``): thread replies and messages of their own in a channel."""
    from canhgac.notifications import chat

    def deliver(notice: Notice, incident: Incident | None) -> object:
        if notice.in_thread and incident is not None:
            return chat.post_in_thread(store, settings, directory, incident, key=notice.key, mrkdwn=notice.text,
                                       channels=[notice.channel])
        return chat.post_to_channel(store, settings, notice.channel, key=notice.key, mrkdwn=notice.text,
                                    agency=notice.agency)

    return deliver


def schedule_escalation_job(scheduler: BackgroundScheduler, store: Store, settings: Settings, directory: Directory,
                            *, clock: Callable[[], datetime] = utcnow, deliver: Deliver | None = None) -> bool:
    """Adds the job when on-call policies are configured and chat can be sent; says whether it did. Without Slack
    nothing is planned either: a page recorded as sent that nobody could receive would never be sent again."""
    from canhgac.notifications.chat.notices import chat_enabled

    if not settings.notifications.oncall or (deliver is None and not chat_enabled(settings)):
        return False
    sink = deliver or outbox_delivery(store, settings, directory)

    def job() -> None:
        try:
            run_escalation(store, settings, directory, sink, now=clock())
        except Exception:  # a failed run must not stop the schedule; the next one plans the same notices
            log.exception("escalation run failed")

    scheduler.add_job(job, "interval", seconds=INTERVAL_SECONDS, id="escalation", max_instances=1, coalesce=True)
    return True
