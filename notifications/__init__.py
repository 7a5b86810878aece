"""Telling people: a notifier base, the chat outbox and its Slack dispatcher, and a recording fake for tests."""

from __future__ import annotations

import logging
import os

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.notifications.base import Notifier, NullNotifier, RecordingNotifier
from canhgac.storage.base import Store

log = logging.getLogger(__name__)
#: How long ``close`` (the end of ``ingest``, a stopping ``serve``) keeps delivering what waits in the outbox.
DRAIN_SECONDS = 30.0


def build_notifier(settings: Settings, directory: Directory, store: Store | None = None) -> Notifier:
    """Slack when it is configured and its token is present: changes go to the outbox in ``store`` and a
    dispatcher thread delivers them; otherwise nothing is sent (and we say so)."""
    slack = settings.notifications.slack
    if slack is None or not settings.notifications.routes:
        return NullNotifier("no Slack routes configured")
    token = os.environ.get(slack.token_env)
    if not token:
        return NullNotifier(f"Slack skipped: environment variable {slack.token_env} is not set")
    if store is None:
        return NullNotifier("Slack skipped: no store for the outbox")
    from canhgac.notifications.chat import Dispatcher, OutboxNotifier
    from canhgac.notifications.slack import SlackSender, slack_client

    dispatcher = Dispatcher(store, SlackSender(slack_client(slack, token)), directory,
                            language=settings.notifications.language, public_url=slack.public_url,
                            pace=slack.pace_seconds, channels=[r.channel for r in settings.notifications.routes])
    dispatcher.start()
    return OutboxNotifier(store, settings, directory, dispatcher=dispatcher, drain_seconds=DRAIN_SECONDS)


__all__ = ["Notifier", "NullNotifier", "RecordingNotifier", "build_notifier"]
