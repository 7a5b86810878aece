"""Slack: routed by agency subtree and severity, escaped, paced, and never fatal to ingestion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from canhgac.core.config import NotificationRoute, NotificationSettings, Settings, SlackSettings
from canhgac.core.directory import Directory
from canhgac.core.model import Incident, Severity
from canhgac.incidents.service import IncidentChange
from canhgac.notifications import NullNotifier, build_notifier
from canhgac.notifications.slack import SlackNotifier, slack_client
from canhgac.notifications.slack import notifier as slack_notifier_module

from tests.notifications.fake_slack import FakeSlack

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    yield server
    server.close()


def change(agency: str, severity: Severity, *, title: str = "SQL injection — 203.0.113.9",
           created: bool = True) -> IncidentChange:
    incident = Incident(id=f"X-2026-{agency}", agency=agency, system="dvc-binhdinh", title=title,
                        severity=severity, fingerprint="f", rule_id="r", entities={"source.ip": "203.0.113.9"},
                        alert_count=3, first_seen=T0, last_seen=T0)
    return IncidentChange(incident, created=created)


def notifier_for(fake: FakeSlack, settings: Settings, language: str = "vi") -> SlackNotifier:
    routes = [NotificationRoute(name="national", channel="#soc-quoc-gia", min_severity=Severity.high),
              NotificationRoute(name="gialai", channel="#soc-gia-lai", agencies=["gialai"])]
    slack = SlackSettings(base_url=fake.base_url)
    return SlackNotifier(slack_client(slack, "xoxb-test"), NotificationSettings(language=language, slack=slack,
                         routes=routes), Directory(settings))


def test_routes_by_subtree_and_severity(fake_slack: FakeSlack, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_notifier_module, "CHANNEL_INTERVAL", 0.0)
    notifier = notifier_for(fake_slack, settings)
    # quynhon is under binhdinh, which was merged into gialai: the Gia Lai centre hears of it.
    notifier.notify([change("quynhon", Severity.medium), change("phuyen", Severity.critical),
                     change("quynhon", Severity.high, created=False)])
    notifier.close()
    sent = sorted((r["channel"], r["text"].split(":")[0]) for r in fake_slack.requests)
    assert sent == [("#soc-gia-lai", "Sự cố mới X-2026-quynhon"), ("#soc-quoc-gia", "Sự cố mới X-2026-phuyen")]
    assert all(r["path"] == "/api/chat.postMessage" and r["auth"] == "Bearer xoxb-test" for r in fake_slack.requests)


def test_message_is_vietnamese_and_escapes_log_text(fake_slack: FakeSlack, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_notifier_module, "CHANNEL_INTERVAL", 0.0)
    notifier = notifier_for(fake_slack, settings)
    notifier.notify([change("binhdinh", Severity.high, title="<!channel> & <script>")])
    notifier.close()
    request = next(r for r in fake_slack.requests if r["channel"] == "#soc-gia-lai")
    blocks = json.loads(request["blocks"]) if isinstance(request["blocks"], str) else request["blocks"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;script&gt;" in text
    assert "Ủy ban nhân dân tỉnh Bình Định" in text and "Mức độ" in text and "cao" in text
    assert "(GMT+7)" in text and "22/11/2026 15:00:00" in text


def test_rate_limit_is_waited_out(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_notifier_module, "CHANNEL_INTERVAL", 0.0)
    fake = FakeSlack(rate_limit_first=1)
    try:
        notifier = notifier_for(fake, settings)
        notifier.notify([change("phuyen", Severity.critical)])
        notifier.close()
        assert fake.rate_limited == 1 and len(fake.requests) == 1 and notifier.stats.sent == 1
    finally:
        fake.close()


def test_unreachable_slack_is_counted_not_raised(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_notifier_module, "CHANNEL_INTERVAL", 0.0)
    fake = FakeSlack()
    fake.close()  # nothing listens there any more
    notifier = notifier_for(fake, settings)
    notifier.notify([change("phuyen", Severity.critical)])
    notifier.close()
    assert notifier.stats.failed == 1 and notifier.stats.last_error


def test_without_token_nothing_is_sent(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    chosen = build_notifier(settings, Directory(settings))
    assert isinstance(chosen, NullNotifier) and "SLACK_BOT_TOKEN" in chosen.describe()
