"""Attacker text in a Slack notice stays text: no mrkdwn formatting, no links, no mentions, in any field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from canhgac.core.config import Settings
from canhgac.core.model import Incident, Severity
from canhgac.incidents.service import IncidentChange
from canhgac.storage.base import Store

from tests.notifications.chat_harness import FakeClock, chat_settings, dispatcher_for, writer_for
from tests.notifications.fake_slack import FakeSlack

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HOSTILE_TITLE = ("*Khẩn* _gấp_ ~hủy~ `lệnh` ```rm -rf``` \n> trích dẫn <http://evil.example/x|bấm vào đây> "
                 "https://dangnhap.evil.example/login?next=1 www.evil.example hỗ-trợ@evil.example <!here> "
                 "<@U123> :skull: &amp;")
HOSTILE_SOURCE = "*203.0.113.9* http://evil.example"
#: Pieces that Slack would turn into formatting, links or mentions if they arrived as mrkdwn or unescaped.
LIVE = ["http://", "https://", "www.evil.example", "evil.example", "<!here>", "<@U123>", "<http"]


@pytest.fixture
def sent(settings: Settings, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    fake = FakeSlack()
    try:
        settings = chat_settings(settings, fake, monkeypatch)
        incident = sqlite_store.create_incident(Incident(
            id="BDH-2026-000001", agency="binhdinh", system="dvc-binhdinh", title=HOSTILE_TITLE,
            severity=Severity.high, fingerprint="f", rule_id="r", entities={"source.ip": HOSTILE_SOURCE},
            alert_count=1, first_seen=T0, last_seen=T0))
        writer_for(sqlite_store, settings).notify([IncidentChange(incident, created=True)])
        dispatcher = dispatcher_for(sqlite_store, settings, FakeClock())
        assert dispatcher.drain(timeout=60)
        assert dispatcher.stats.sent == 2, dispatcher.stats.last_error  # valid Block Kit (the fake checks limits)
        request = fake.calls("chat.postMessage")[0]
        if isinstance(request.get("blocks"), str):
            request["blocks"] = json.loads(request["blocks"])
        yield request
    finally:
        fake.close()


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def test_untrusted_values_never_arrive_as_mrkdwn(sent: dict[str, Any]) -> None:
    objects = list(text_objects(sent["blocks"]))
    markdown = " ".join(o["text"] for o in objects if o["type"] == "mrkdwn")
    for piece in ("Khẩn", "gấp", "hủy", "lệnh", "rm -rf", "trích dẫn", "203.0.113.9", "skull"):
        assert piece not in markdown, f"{piece!r} reached Slack as mrkdwn"
    plain = " ".join(o["text"] for o in objects if o["type"] == "plain_text")
    assert "*Khẩn* _gấp_ ~hủy~ `lệnh`" in plain and "203.0.113.9" in plain  # still readable, as text
    assert all(o.get("emoji") is False for o in objects if o["type"] == "plain_text" and "Khẩn" in o["text"])
    assert sent.get("mrkdwn") in (False, "false", "0")  # the notification text is not formatted either


def test_urls_are_defanged_and_mentions_escaped_everywhere(sent: dict[str, Any]) -> None:
    everything = json.dumps(sent["blocks"], ensure_ascii=False) + sent["text"]
    # The one link is ours: the incident's page on the configured public address.
    ours = "https://soc.example.gov.vn/#incident/BDH-2026-000001"
    assert everything.count("https://") == everything.count(ours) >= 1
    everything = everything.replace(ours, "")
    for piece in LIVE:
        assert piece not in everything, f"{piece!r} would be live in Slack"
    assert "hxxps://dangnhap[.]evil[.]example/login" in everything and "www[.]evil[.]example" in everything
    assert "&lt;!here&gt;" in everything and "hxxp://evil[.]example" in everything
    assert sent.get("unfurl_links") in (False, "false", "0") and sent.get("unfurl_media") in (False, "false", "0")
