"""Telling people: a notifier base, Slack, and a recording fake for tests."""

from __future__ import annotations

import logging
import os

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.notifications.base import Notifier, NullNotifier, RecordingNotifier

log = logging.getLogger(__name__)


def build_notifier(settings: Settings, directory: Directory) -> Notifier:
    """Slack when it is configured and its token is present; otherwise nothing is sent (and we say so)."""
    slack = settings.notifications.slack
    if slack is None or not settings.notifications.routes:
        return NullNotifier("no Slack routes configured")
    token = os.environ.get(slack.token_env)
    if not token:
        return NullNotifier(f"Slack skipped: environment variable {slack.token_env} is not set")
    from canhgac.notifications.slack import SlackNotifier, slack_client

    return SlackNotifier(slack_client(slack, token), settings.notifications, directory)


__all__ = ["Notifier", "NullNotifier", "RecordingNotifier", "build_notifier"]
