"""Slack delivery on a worker thread: ingestion hands changes over and moves on."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from canhgac.core.config import NotificationRoute, NotificationSettings
from canhgac.core.directory import Directory
from canhgac.incidents.service import IncidentChange
from canhgac.notifications.base import Notifier
from canhgac.notifications.slack.messages import incident_message
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
#: Slack accepts about one message per second per channel.
CHANNEL_INTERVAL = 1.0
QUEUE_LIMIT = 10_000


@dataclass
class SlackStats:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    last_error: str | None = None


class SlackNotifier(Notifier):
    def __init__(self, client: WebClient, settings: NotificationSettings, directory: Directory) -> None:
        self.client = client
        self.settings = settings
        self.directory = directory
        self.stats = SlackStats()
        self._queue: queue.Queue[tuple[str, IncidentChange] | None] = queue.Queue(QUEUE_LIMIT)
        self._last_post: dict[str, float] = {}
        self._worker = threading.Thread(target=self._run, name="slack-notifier", daemon=True)
        self._worker.start()

    def describe(self) -> str:
        return f"Slack ({len(self.settings.routes)} routes)"

    def channels_for(self, change: IncidentChange) -> list[str]:
        incident = change.incident
        return [route.channel for route in self.settings.routes
                if incident.severity.rank >= route.min_severity.rank and self._covers(route, incident.agency)]

    def _covers(self, route: NotificationRoute, agency: str) -> bool:
        return not route.agencies or any(agency in self.directory.subtree(a) for a in route.agencies)

    def notify(self, changes: Sequence[IncidentChange]) -> None:
        for change in changes:
            if not (change.created or change.severity_raised):
                continue  # growing incidents are shown on the page; only news goes to chat
            for channel in self.channels_for(change):
                try:
                    self._queue.put_nowait((channel, change))
                except queue.Full:
                    self.stats.dropped += 1
                    log.warning("Slack queue full; dropped notice for %s", change.incident.id)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            channel, change = item
            wait = self._last_post.get(channel, 0.0) + CHANNEL_INTERVAL - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            text, blocks = incident_message(change, self.directory, self.settings.language)
            try:
                # mrkdwn off for the notification text, no unfurling, no name linking: see messages.py.
                self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, mrkdwn=False,
                                             unfurl_links=False, unfurl_media=False, link_names=False,
                                             parse="none")
                self.stats.sent += 1
            except (SlackApiError, OSError) as exc:
                self.stats.failed += 1
                self.stats.last_error = str(exc)
                log.warning("Slack message for %s to %s failed: %s", change.incident.id, channel, exc)
            self._last_post[channel] = time.monotonic()

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._worker.join(timeout)
