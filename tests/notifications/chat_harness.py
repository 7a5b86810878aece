"""Pieces the chat tests share: a clock that moves on instead of sleeping, settings routed to a fake Slack, and
incidents stored the way detection stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from canhgac.core.config import NotificationRoute, NotificationSettings, Settings, SlackSettings
from canhgac.core.directory import Directory
from canhgac.core.model import Incident, Severity
from canhgac.incidents.service import IncidentChange
from canhgac.notifications.chat import Clock, Dispatcher, OutboxNotifier
from canhgac.notifications.slack import SlackSender, slack_client
from canhgac.storage.base import Store

from tests.notifications.fake_slack import FakeSlack

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ROUTES = [NotificationRoute(name="national", channel="#soc-quoc-gia", min_severity=Severity.high),
          NotificationRoute(name="gialai", channel="#soc-gia-lai", agencies=["gialai"])]


class FakeClock(Clock):
    """Starts at the real time; ``sleep`` moves it on at once and counts the time it would have waited."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)
        self.slept = 0.0

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=max(seconds, 0.0))
        self.slept += max(seconds, 0.0)

    def epoch(self) -> float:
        return self.at.timestamp()


def chat_settings(settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch, *, language: str = "vi",
                  public_url: str | None = "https://soc.example.gov.vn") -> Settings:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    slack = SlackSettings(base_url=fake.base_url, public_url=public_url)
    notifications = NotificationSettings(language=language, slack=slack, routes=ROUTES)
    return settings.model_copy(update={"notifications": notifications})


def dispatcher_for(store: Store, settings: Settings, clock: FakeClock, *, timeout: float = 5) -> Dispatcher:
    slack = settings.notifications.slack
    assert slack is not None
    sender = SlackSender(slack_client(slack, "xoxb-test", timeout=timeout))
    return Dispatcher(store, sender, Directory(settings), language=settings.notifications.language,
                      public_url=slack.public_url, pace=1.0, clock=clock, jitter=lambda: 0.5,
                      channels=[r.channel for r in settings.notifications.routes])


def writer_for(store: Store, settings: Settings) -> OutboxNotifier:
    return OutboxNotifier(store, settings, Directory(settings))


def stored_incident(store: Store, n: int, *, agency: str = "gialai", severity: Severity = Severity.high,
                    title: str = "Tấn công SQL injection — 203.0.113.9", source: str = "203.0.113.9") -> Incident:
    incident = Incident(id=f"GLI-2026-{n:06d}", agency=agency, system=None, title=title, severity=severity,
                        fingerprint=f"web-sqli|{agency}|{n}", rule_id="web-sqli", entities={"source.ip": source},
                        alert_count=1, first_seen=T0, last_seen=T0 + timedelta(seconds=n))
    return store.create_incident(incident)


def created(incident: Incident) -> IncidentChange:
    return IncidentChange(incident, created=True)
