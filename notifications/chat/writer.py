"""Writing to the outbox: what every producer of chat notices calls. Nothing here talks to Slack.

Every function returns how many notices were new and never raises: a failed write is logged, and the incident
change it describes stays made (chat must not undo or block the work of ingestion or of a person).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import Incident
from canhgac.incidents.models import IncidentChange
from canhgac.notifications.base import Notifier
from canhgac.notifications.chat.changes import ingest_notices, person_notices
from canhgac.notifications.chat.dispatcher import Dispatcher
from canhgac.notifications.chat.notices import channel_notice, channels_for, chat_enabled, reply_notice
from canhgac.notifications.slack.messages import reply_message
from canhgac.storage.base import Store
from canhgac.storage.outbox import ChatNotice

log = logging.getLogger(__name__)


def _write(store: Store, notices: Sequence[ChatNotice]) -> int:
    if not notices:
        return 0
    try:
        return store.put_chat_notices(notices)
    except Exception:  # the store down or refusing: the change is made, its chat notice is lost (logged)
        log.exception("could not write %d chat notices to the outbox", len(notices))
        return 0


def incident_changed(store: Store, settings: Settings, directory: Directory, before: Incident | None,
                     after: Incident, actor: str) -> int:
    """After a person changed an incident (page, API, Slack action): replies in its thread, then the top message
    rewritten. Calling it twice for the same change writes nothing more (the ids carry the incident's version)."""
    if not chat_enabled(settings):
        return 0
    language = settings.notifications.language
    notices = [n for channel in channels_for(settings, directory, after)
               for n in person_notices(channel, before, after, actor, language)]
    return _write(store, notices)


def post_in_thread(store: Store, settings: Settings, directory: Directory, incident: Incident, *, key: str,
                   mrkdwn: str, channels: list[str] | None = None) -> int:
    """A message of ours in the incident's thread (deadline warning, escalation). ``mrkdwn`` is sent as it is:
    the caller builds any mention and passes log-derived text through ``messages.untrusted``."""
    if not chat_enabled(settings):
        return 0
    text, blocks = reply_message(mrkdwn, trusted_mrkdwn=True)
    targets = channels if channels is not None else channels_for(settings, directory, incident)
    return _write(store, [reply_notice(channel, incident, key, text, blocks) for channel in targets])


def post_to_channel(store: Store, settings: Settings, channel: str, *, key: str, mrkdwn: str,
                    agency: str | None = None) -> int:
    """A top-level message that belongs to no incident (a morning digest, an escalation to the channel)."""
    if not chat_enabled(settings):
        return 0
    text, blocks = reply_message(mrkdwn, trusted_mrkdwn=True)
    return _write(store, [channel_notice(channel, key, text, blocks, agency)])


def change_observer(store: Store, settings: Settings, directory: Directory) -> Callable[[Incident, Incident, str],
                                                                                        None]:
    """For ``IncidentService.observers``: every change a person makes through the service reaches chat."""
    def observe(before: Incident, after: Incident, actor: str) -> None:
        incident_changed(store, settings, directory, before, after, actor)

    return observe


class OutboxNotifier(Notifier):
    """The ingest side: incident changes from detection become notices in the outbox (right after the incidents
    are written), and the dispatcher that sends them is woken."""

    def __init__(self, store: Store, settings: Settings, directory: Directory, *,
                 dispatcher: Dispatcher | None = None, drain_seconds: float = 30.0) -> None:
        self.store = store
        self.settings = settings
        self.directory = directory
        self.dispatcher = dispatcher
        self.drain_seconds = drain_seconds

    def describe(self) -> str:
        return f"Slack ({len(self.settings.notifications.routes)} routes, outbox in the store)"

    def notify(self, changes: Sequence[IncidentChange]) -> None:
        language = self.settings.notifications.language
        notices = [n for change in changes for channel in channels_for(self.settings, self.directory, change.incident)
                   for n in ingest_notices(channel, change, language)]
        if _write(self.store, notices) and self.dispatcher is not None:
            self.dispatcher.wake.set()

    def close(self) -> None:
        """Deliver what waits (bounded by ``drain_seconds``), then stop the dispatcher; the rest stays queued."""
        if self.dispatcher is not None:
            self.dispatcher.stop(self.drain_seconds)
