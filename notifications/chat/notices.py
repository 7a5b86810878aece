"""Which channels hear of an incident, and the notices written for them (ids chosen so a repeat is one notice)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

from canhgac.core.config import NotificationRoute, Settings
from canhgac.core.directory import Directory
from canhgac.core.model import Incident
from canhgac.storage.outbox import ChatNotice


def chat_enabled(settings: Settings) -> bool:
    """Slack is configured with routes and its token is present (without it nothing could ever be sent)."""
    slack = settings.notifications.slack
    return bool(slack is not None and settings.notifications.routes and os.environ.get(slack.token_env))


def channels_for(settings: Settings, directory: Directory, incident: Incident) -> list[str]:
    """The channels of every route that covers the incident's agency at its severity, each once."""
    def covers(route: NotificationRoute) -> bool:
        return not route.agencies or any(incident.agency in directory.subtree(a) for a in route.agencies)

    chosen = [r.channel for r in settings.notifications.routes
              if incident.severity.rank >= r.min_severity.rank and covers(r)]
    return list(dict.fromkeys(chosen))


class _OrderClock:
    """Strictly increasing times (µs) in this process, so notices written in one batch keep their order."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def next(self) -> datetime:
        with self._lock:
            self._last = max(self._last + timedelta(microseconds=1), datetime.now(UTC))
            return self._last


_clock = _OrderClock()


def post_notice(channel: str, incident: Incident) -> ChatNotice:
    """The top message: one per channel and incident, ever (rendered when sent, from the stored incident)."""
    return opener_notice(channel, incident.id, incident.agency, _clock.next())


def opener_notice(channel: str, incident_id: str, agency: str | None, created: datetime) -> ChatNotice:
    return ChatNotice(id=f"{channel}|{incident_id}|post", channel=channel, kind="post", incident_id=incident_id,
                      agency=agency, created=created)


def update_notice(channel: str, incident: Incident) -> ChatNotice:
    """Rewrite the top message as the incident is now; while one waits, a second is the same notice."""
    return ChatNotice(id=f"{channel}|{incident.id}|update", channel=channel, kind="update",
                      incident_id=incident.id, agency=incident.agency, created=_clock.next())


def reply_notice(channel: str, incident: Incident, key: str, text: str, blocks: list[dict]) -> ChatNotice:  # type: ignore[type-arg]
    return ChatNotice(id=f"{channel}|{incident.id}|{key}", channel=channel, kind="reply", incident_id=incident.id,
                      agency=incident.agency, created=_clock.next(), text=text, blocks=blocks)


def channel_notice(channel: str, key: str, text: str, blocks: list[dict], agency: str | None) -> ChatNotice:  # type: ignore[type-arg]
    return ChatNotice(id=f"{channel}|-|{key}", channel=channel, kind="message", agency=agency,
                      created=_clock.next(), text=text, blocks=blocks)
