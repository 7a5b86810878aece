"""One thread per incident: the top message (facts, link, buttons) updated in place, later changes as replies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, IncidentState, Resolution, Severity
from canhgac.incidents import lifecycle
from canhgac.incidents.service import IncidentChange, IncidentService
from canhgac.notifications.chat import incident_changed, post_in_thread, post_to_channel
from canhgac.storage.base import Store

from tests.notifications.chat_harness import (
    T0,
    FakeClock,
    chat_settings,
    created,
    dispatcher_for,
    stored_incident,
    writer_for,
)
from tests.notifications.fake_slack import FakeSlack, Posted

GIALAI = "#soc-gia-lai"


@pytest.fixture
def fake() -> FakeSlack:
    server = FakeSlack()
    yield server  # type: ignore[misc]
    server.close()


def replies(fake: FakeSlack, top: Posted) -> list[str]:
    return [m.text for m in fake.in_channel(top.channel) if m.thread_ts == top.ts]


def alerts(n: int, start: int = 0) -> list[Alert]:
    return [Alert(id=f"a{start + i}", rule_id="web-sqli", rule_title="SQL injection", severity=Severity.medium,
                  agency="gialai", entities={}, first_seen=T0, last_seen=T0, event_ids=[]) for i in range(n)]


def test_top_message_links_the_incident_and_carries_the_buttons(
        sqlite_store: Store, settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake, monkeypatch)
    incident = stored_incident(sqlite_store, 1, severity=Severity.medium)
    writer_for(sqlite_store, settings).notify([created(incident)])
    assert dispatcher_for(sqlite_store, settings, FakeClock()).drain(timeout=60)
    [top] = fake.in_channel(GIALAI)
    text = json.dumps(top.blocks, ensure_ascii=False)
    assert "https://soc.example.gov.vn/#incident/GLI-2026-000001" in text
    actions = [b for b in top.blocks if b["type"] == "actions"]
    assert actions and {e["action_id"] for e in actions[0]["elements"]} >= {"canhgac_ack", "canhgac_open"}
    assert "Mức độ" in text and "trung bình" in text and "Trạng thái" in text and "mới" in text
    assert top.metadata == {"event_type": "canhgac_notice",
                            "event_payload": {"notice_id": "#soc-gia-lai|GLI-2026-000001|post"}}


def test_changes_go_into_the_thread_and_the_top_message_is_updated(
        sqlite_store: Store, settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake, monkeypatch)
    directory = Directory(settings)
    clock = FakeClock()
    dispatcher = dispatcher_for(sqlite_store, settings, clock)
    writer = writer_for(sqlite_store, settings)
    incident = stored_incident(sqlite_store, 1, severity=Severity.medium)
    writer.notify([created(incident)])
    assert dispatcher.drain(timeout=60)
    [top] = fake.in_channel(GIALAI)

    # A person acknowledges, assigns and comments (one for chat, with attacker-looking text; one not).
    service = IncidentService(sqlite_store, directory)
    told: list[tuple] = []  # type: ignore[type-arg]
    service.observers.append(lambda before, after, actor: told.append((before, after, actor)))
    service.observers.append(lambda before, after, actor: incident_changed(sqlite_store, settings, directory,
                                                                           before, after, actor))
    now = incident.created
    service.apply(incident.id, scope=None, expected_version="*", actor="nguyen.van.a", action="ack",
                  mutate=lambda i: lifecycle.transition(i, IncidentState.acknowledged, actor="nguyen.van.a", now=now))
    service.apply(incident.id, scope=None, expected_version="*", actor="nguyen.van.a", action="assign",
                  mutate=lambda i: i.model_copy(update={"assignee": "tran.thi.b"}))
    service.apply(incident.id, scope=None, expected_version="*", actor="tran.thi.b", action="comment",
                  mutate=lambda i: lifecycle.add_comment(i, "Đã chặn <!channel> https://evil.example",
                                                         actor="tran.thi.b", now=now, to_chat=True))
    service.apply(incident.id, scope=None, expected_version="*", actor="tran.thi.b", action="comment",
                  mutate=lambda i: lifecycle.add_comment(i, "ghi chú nội bộ", actor="tran.thi.b", now=now))
    # The same change told twice (a Slack action calls incident_changed itself too): no second reply.
    for before, after, actor in told:
        assert incident_changed(sqlite_store, settings, directory, before, after, actor) == 0
    current = sqlite_store.get_incident(incident.id)
    assert current is not None
    assert dispatcher.drain(timeout=120)

    said = replies(fake, top)
    assert any("mới → đã tiếp nhận" in r and "nguyen.van.a" in r for r in said)
    assert any("tran.thi.b" in r and "Người xử lý" in r for r in said)
    assert any("Đã chặn &lt;!channel&gt; hxxps://evil[.]example" in r for r in said)
    assert not any("ghi chú nội bộ" in r for r in said)
    assert len(fake.messages) == 1 + len(said) and len(said) == len(set(said))
    assert top.updates, "the top message was not rewritten"
    last = json.dumps(top.updates[-1]["blocks"], ensure_ascii=False)
    assert "đã tiếp nhận" in last and "tran.thi.b" in last and "canhgac_ack" not in last  # nothing left to ack

    # Detection grows it: a reply when it passes 10 alerts, none for the next few, one at 20.
    updates = len(top.updates)
    grown = current
    for batch in (9, 3, 8):
        grown = sqlite_store.update_incident(grown.model_copy(update={"alert_count": grown.alert_count + batch}),
                                             expected_version=grown.version or "")
        writer.notify([IncidentChange(grown, created=False, new_alerts=alerts(batch))])
    assert dispatcher.drain(timeout=120)
    grew = [r for r in replies(fake, top) if "cảnh báo" in r]
    assert grew == ["Sự cố đã có 10 cảnh báo", "Sự cố đã có 21 cảnh báo"]
    # Updates waiting together are one rewrite, of the incident as it is by then.
    assert len(top.updates) == updates + 1 and '"21"' in json.dumps(top.updates[-1]["blocks"])

    # Resolved: said in the thread with how it ended; the top message shows it and offers no more buttons but Open.
    for state in (IncidentState.investigating, IncidentState.resolved):
        service.apply(incident.id, scope=None, expected_version="*", actor="tran.thi.b", action="transition",
                      mutate=lambda i, s=state: lifecycle.transition(
                          i, s, actor="tran.thi.b", now=now,
                          resolution=Resolution.false_positive if s is IncidentState.resolved else None))
    assert dispatcher.drain(timeout=120)
    assert replies(fake, top)[-1] == "Trạng thái: đang xử lý → đã khắc phục (bởi tran.thi.b). Kết luận: Cảnh báo nhầm"
    final = top.updates[-1]["blocks"]
    assert "đã khắc phục" in json.dumps(final, ensure_ascii=False)
    [actions] = [b for b in final if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["canhgac_open"]


def test_a_change_in_an_unposted_incident_opens_its_thread_first(
        sqlite_store: Store, settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """An incident from before chat was set up (no top message yet): the top message comes first, then the reply."""
    settings = chat_settings(settings, fake, monkeypatch)
    incident = stored_incident(sqlite_store, 7, severity=Severity.medium)
    after = sqlite_store.update_incident(incident.model_copy(update={"assignee": "le.van.c"}),
                                         expected_version=incident.version or "")
    incident_changed(sqlite_store, settings, Directory(settings), incident, after, "le.van.c")
    assert dispatcher_for(sqlite_store, settings, FakeClock()).drain(timeout=60)
    [top, reply] = fake.in_channel(GIALAI)
    assert top.thread_ts is None and reply.thread_ts == top.ts and "le.van.c" in reply.text


def test_our_own_messages_for_escalation_and_digests(
        sqlite_store: Store, settings: Settings, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = chat_settings(settings, fake, monkeypatch)
    directory = Directory(settings)
    incident = stored_incident(sqlite_store, 3, severity=Severity.medium)
    writer_for(sqlite_store, settings).notify([created(incident)])
    for _ in range(2):  # written twice (a planner that ran twice): one message
        post_in_thread(sqlite_store, settings, directory, incident, key="deadline:notice_5d",
                       mrkdwn="<@U0GLAI0001> còn 1 ngày đến hạn thông báo")
        post_to_channel(sqlite_store, settings, GIALAI, key="digest:2026-11-23", mrkdwn="*Tóm tắt buổi sáng*")
    clock = FakeClock()
    assert dispatcher_for(sqlite_store, settings, clock).drain(timeout=60)
    texts = [(m.thread_ts is not None, m.blocks[0]["text"]["text"]) for m in fake.in_channel(GIALAI)[1:]]
    assert texts == [(True, "<@U0GLAI0001> còn 1 ngày đến hạn thông báo"), (False, "*Tóm tắt buổi sáng*")]
    clock.sleep(timedelta(minutes=1).total_seconds())
