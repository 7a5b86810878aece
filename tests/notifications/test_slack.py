"""Slack: routed by agency subtree and severity, escaped, and never fatal to ingestion."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import Severity
from canhgac.incidents.service import IncidentChange
from canhgac.notifications import NullNotifier, build_notifier
from canhgac.notifications.chat import OutboxNotifier
from canhgac.storage.base import Store

from tests.notifications.chat_harness import (
    FakeClock,
    chat_settings,
    created,
    dispatcher_for,
    stored_incident,
    writer_for,
)
from tests.notifications.fake_slack import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    yield server
    server.close()


def test_routes_by_subtree_and_severity(fake_slack: FakeSlack, sqlite_store: Store, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake_slack, monkeypatch)
    # quynhon is under binhdinh, which was merged into gialai: the Gia Lai centre hears of it.
    quynhon = stored_incident(sqlite_store, 1, agency="quynhon", severity=Severity.medium)
    phuyen = stored_incident(sqlite_store, 2, agency="phuyen", severity=Severity.critical)
    grown = stored_incident(sqlite_store, 3, agency="quynhon", severity=Severity.high)
    writer_for(sqlite_store, settings).notify([created(quynhon), created(phuyen),
                                               IncidentChange(grown, created=False)])
    assert dispatcher_for(sqlite_store, settings, FakeClock()).drain(timeout=60)
    sent = sorted((m.channel, m.text.split(":")[0]) for m in fake_slack.messages)
    assert sent == [("#soc-gia-lai", "Sự cố GLI-2026-000001"), ("#soc-quoc-gia", "Sự cố GLI-2026-000002")]
    assert all(r["auth"] == "Bearer xoxb-test" for r in fake_slack.requests)


def test_message_is_vietnamese_and_escapes_log_text(fake_slack: FakeSlack, sqlite_store: Store, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake_slack, monkeypatch)
    incident = stored_incident(sqlite_store, 1, agency="binhdinh", title="<!channel> & <script>")
    writer_for(sqlite_store, settings).notify([created(incident)])
    assert dispatcher_for(sqlite_store, settings, FakeClock()).drain(timeout=60)
    posted = next(m for m in fake_slack.messages if m.channel == "#soc-gia-lai")
    text = json.dumps(posted.blocks, ensure_ascii=False)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;script&gt;" in text
    assert "Ủy ban nhân dân tỉnh Bình Định" in text and "Mức độ" in text and "cao" in text
    assert "(GMT+7)" in text and "22/11/2026 15:00:00" in text


def test_a_store_that_refuses_the_notice_does_not_break_ingestion(fake_slack: FakeSlack, sqlite_store: Store,
                                                                  settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake_slack, monkeypatch)
    incident = stored_incident(sqlite_store, 1, severity=Severity.critical)

    def refuses(notices):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(sqlite_store, "put_chat_notices", refuses)
    writer_for(sqlite_store, settings).notify([created(incident)])  # logged, not raised


def test_without_token_nothing_is_sent(settings: Settings, sqlite_store: Store,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    chosen = build_notifier(settings, Directory(settings), sqlite_store)
    assert isinstance(chosen, NullNotifier) and "SLACK_BOT_TOKEN" in chosen.describe()


def test_with_token_changes_go_to_the_outbox_and_close_delivers_them(
        fake_slack: FakeSlack, sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake_slack, monkeypatch)
    notifier = build_notifier(settings, Directory(settings), sqlite_store)
    assert isinstance(notifier, OutboxNotifier)
    notifier.notify([created(stored_incident(sqlite_store, 1, severity=Severity.medium))])
    notifier.close()  # what ingest and serve do on the way out: deliver, then stop
    assert len(fake_slack.messages) == 1 and sqlite_store.list_chat_notices() == []
