"""Acting from Slack: button presses and ``/canhgac`` in Slack's own request format (form-encoded, signed with
the app's signing secret as Slack signs them), answered as the Canh Gác user the Slack member is mapped to."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from canhgac.api import create_app
from canhgac.core.config import NotificationRoute, NotificationSettings, Settings, SlackSettings, SlackUser
from canhgac.core.errors import ConfigErrors
from canhgac.core.model import IncidentState
from canhgac.notifications.escalation.state import request_key
from canhgac.notifications.slack.buttons import incident_buttons
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, NOW, FrozenClock, ok, open_incident
from tests.notifications.fake_slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
RESPONDER = "U0QUYNHON"  # agency_responder of Quy Nhơn
VIEWER = "U0VIEWER"  # agency_viewer of Quy Nhơn
SOC = "U0SOCLEAD"  # soc_analyst, English replies
STRANGER = "U0NOBODY"  # in the workspace, not mapped
INTERACTIONS = "/api/v1/slack/interactions"
COMMANDS = "/api/v1/slack/commands"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    users = [SlackUser(slack_id=RESPONDER, name="nguyen.van.a", role="agency_responder", agency="quynhon"),
             SlackUser(slack_id=VIEWER, name="tran.thi.b", role="agency_viewer", agency="quynhon"),
             SlackUser(slack_id=SOC, name="le.van.c", role="soc_analyst", language="en")]
    slack = SlackSettings(base_url=fake_slack.base_url, users=users, public_url="https://soc.gialai.gov.vn")
    return settings.model_copy(update={"notifications": NotificationSettings(slack=slack)})


@pytest.fixture(autouse=True)
def signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)


def signed(body: str, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    """Headers as Slack sends them (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": timestamp,
            "Content-Type": "application/x-www-form-urlencoded"}


def press(action_id: str, incident_id: str, user: str = RESPONDER, *, response_url: str | None = None) -> str:
    """A block_actions payload shaped like Slack's for a button under a bot message."""
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user, "username": "someone", "name": "someone", "team_id": "T0SOC"},
        "api_app_id": "A0CANHGAC", "token": "legacy-verification-token", "trigger_id": "1.2.abc",
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C0SOC",
                      "is_ephemeral": False},
        "team": {"id": "T0SOC", "domain": "soc-gialai"}, "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": "C0SOC", "name": "soc-canh-bao"}, "message": {"type": "message", "ts": "1700000000.000001"},
        "state": {"values": {}},
        # Slack sends https://hooks.slack.com/actions/…; the tests answer on 127.0.0.1 only (see the last test).
        "response_url": response_url or "http://127.0.0.1:9/actions/T0SOC/1/abc",
        "actions": [{"action_id": action_id, "block_id": "canhgac_actions", "value": incident_id, "type": "button",
                     "text": {"type": "plain_text", "text": "x", "emoji": False}, "action_ts": "1700000001.1"}]}
    return urlencode({"payload": json.dumps(payload)})


def command(text: str, user: str = RESPONDER) -> str:
    return urlencode({"token": "legacy", "team_id": "T0SOC", "team_domain": "soc-gialai", "channel_id": "C0SOC",
                      "channel_name": "soc-canh-bao", "user_id": user, "user_name": "someone", "command": "/canhgac",
                      "text": text, "api_app_id": "A0CANHGAC", "is_enterprise_install": "false",
                      "response_url": "https://hooks.slack.com/commands/T0SOC/1/abc", "trigger_id": "1.2.abc"})


def post(client: TestClient, path: str, body: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(path, content=body.encode(), headers=headers if headers is not None else signed(body))


def snapshot(client: TestClient, incident_id: str) -> tuple[str, str, list[tuple[str, str]]]:
    """State, version and audit trail as the page shows them."""
    response = client.get(f"/api/v1/incidents/{incident_id}", headers=ANALYST)
    detail = ok(response)
    return detail["state"], response.headers["etag"], [(e["action"], e["actor"]) for e in detail["audit"]]


def test_a_signed_acknowledge_press_acknowledges_as_the_mapped_user(client: TestClient) -> None:
    incident_id = ok(open_incident(client), 201)["id"]
    answer = ok(post(client, INTERACTIONS, press("canhgac_ack", incident_id)))
    assert answer["response_type"] == "ephemeral" and incident_id in answer["text"]
    state, _, audit = snapshot(client, incident_id)
    assert state == "acknowledged"
    assert ("transition:acknowledged", "slack:U0QUYNHON (nguyen.van.a)") in audit
    history = ok(client.get(f"/api/v1/incidents/{incident_id}", headers=ANALYST))["history"]
    assert history[-1]["actor"] == "slack:U0QUYNHON (nguyen.van.a)"


@pytest.mark.parametrize("refusal", ["wrong secret", "stale", "future", "tampered", "no signature",
                                     "no timestamp", "no secret on the server"])
def test_a_request_slack_did_not_sign_now_is_refused_and_changes_nothing(
        refusal: str, sqlite_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    before = snapshot(sqlite_client, incident_id)
    body = press("canhgac_ack", incident_id)
    headers = {"wrong secret": signed(body, secret="not-the-secret"),
               "stale": signed(body, at=NOW - timedelta(minutes=5, seconds=1)),
               "future": signed(body, at=NOW + timedelta(minutes=5, seconds=1)),
               "tampered": signed(press("canhgac_ack", "QNN-2026-999999")),
               "no signature": {k: v for k, v in signed(body).items() if k != "X-Slack-Signature"},
               "no timestamp": {k: v for k, v in signed(body).items() if k != "X-Slack-Request-Timestamp"},
               "no secret on the server": signed(body)}[refusal]
    if refusal == "no secret on the server":
        monkeypatch.delenv("SLACK_SIGNING_SECRET")
    response = post(sqlite_client, INTERACTIONS, body, headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    named = "X-Slack-Request-Timestamp" if refusal in ("stale", "future", "no timestamp") else "X-Slack-Signature"
    assert response.json()["detail"].startswith(named)
    assert snapshot(sqlite_client, incident_id) == before


def test_a_timestamp_within_five_minutes_is_accepted(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    body = press("canhgac_ack", incident_id)
    ok(post(sqlite_client, INTERACTIONS, body, signed(body, at=NOW - timedelta(minutes=4, seconds=59))))
    assert snapshot(sqlite_client, incident_id)[0] == "acknowledged"


def test_a_responder_cannot_act_outside_the_agency_subtree(client: TestClient) -> None:
    province = ok(open_incident(client, agency="binhdinh", system="dvc-binhdinh"), 201)["id"]
    before = snapshot(client, province)
    for action in ("canhgac_ack", "canhgac_assign_me", "canhgac_escalate"):
        answer = ok(post(client, INTERACTIONS, press(action, province)))
        assert "Không tìm thấy sự cố" in answer["text"]
    assert "Không tìm thấy" in ok(post(client, COMMANDS, command(f"status {province}")))["text"]
    assert "Không tìm thấy" in ok(post(client, COMMANDS, command(f"ack {province}")))["text"]
    assert snapshot(client, province) == before


def test_an_unmapped_member_is_told_to_ask_the_admin_and_changes_nothing(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    before = snapshot(sqlite_client, incident_id)
    answer = ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id, STRANGER)))
    assert "quản trị viên" in answer["text"] and "Ask the administrator" in answer["text"]
    assert "U0NOBODY" in answer["text"]
    assert "quản trị viên" in ok(post(sqlite_client, COMMANDS, command("mine", STRANGER)))["text"]
    assert snapshot(sqlite_client, incident_id) == before


def test_a_viewer_may_look_but_not_act(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    before = snapshot(sqlite_client, incident_id)
    answer = ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id, VIEWER)))
    assert "agency_viewer" in answer["text"] and "chỉ được xem" in answer["text"]
    assert incident_id in ok(post(sqlite_client, COMMANDS, command(f"status {incident_id}", VIEWER)))["text"]
    assert snapshot(sqlite_client, incident_id) == before


def test_acknowledging_twice_answers_politely_and_changes_nothing(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id)))
    before = snapshot(sqlite_client, incident_id)
    answer = ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id)))
    assert "đã tiếp nhận" in answer["text"] and "không có gì thay đổi" in answer["text"]
    assert snapshot(sqlite_client, incident_id) == before


def test_assign_to_me_then_mine_lists_it(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    assert "không có sự cố nào" in ok(post(sqlite_client, COMMANDS, command("của tôi")))["text"]
    ok(post(sqlite_client, INTERACTIONS, press("canhgac_assign_me", incident_id)))
    detail = ok(sqlite_client.get(f"/api/v1/incidents/{incident_id}", headers=ANALYST))
    assert detail["assignee"] == "nguyen.van.a"
    assert ("update", "slack:U0QUYNHON (nguyen.van.a)") in [(e["action"], e["actor"]) for e in detail["audit"]]
    for words in ("mine", "của tôi", "CỦA TÔI"):
        assert incident_id in ok(post(sqlite_client, COMMANDS, command(words)))["text"]
    again = ok(post(sqlite_client, INTERACTIONS, press("canhgac_assign_me", incident_id)))
    assert "đã được giao cho bạn" in again["text"]


def test_escalate_is_audited_with_the_mapped_user(sqlite_client: TestClient, sqlite_store: Store) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    _, version, _ = snapshot(sqlite_client, incident_id)
    answer = ok(post(sqlite_client, INTERACTIONS, press("canhgac_escalate", incident_id)))
    assert "báo cấp trên" in answer["text"].lower()
    state, after_version, audit = snapshot(sqlite_client, incident_id)
    assert ("escalate", "slack:U0QUYNHON (nguyen.van.a)") in audit
    assert state == "new" and after_version == version  # a request for the chain, not a change to the incident
    assert sqlite_store.get_state(request_key(incident_id)) is not None  # the planner sends the next step


def test_a_change_from_slack_reaches_the_incident_thread_through_the_outbox(
        settings: Settings, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    routed = settings.model_copy(update={"notifications": settings.notifications.model_copy(
        update={"routes": [NotificationRoute(name="soc", channel="C0SOC")]})})
    with TestClient(create_app(routed, sqlite_store, clock=FrozenClock(NOW))) as client:
        incident_id = ok(open_incident(client), 201)["id"]
        ok(post(client, INTERACTIONS, press("canhgac_ack", incident_id)))
        ok(post(client, INTERACTIONS, press("canhgac_escalate", incident_id)))
    texts = [n.text for n in sqlite_store.list_chat_notices(channel="C0SOC") if n.incident_id == incident_id]
    assert any("slack:U0QUYNHON (nguyen" in t and "đã tiếp nhận" in t for t in texts), texts
    assert "⏫ slack:U0QUYNHON (nguyen.van.a) yêu cầu báo cấp trên từ Slack." in texts


def test_slash_command_ack_status_and_help(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    assert "Đã tiếp nhận" in ok(post(sqlite_client, COMMANDS, command(f"ack {incident_id.lower()}")))["text"]
    assert snapshot(sqlite_client, incident_id)[0] == "acknowledged"
    status = ok(post(sqlite_client, COMMANDS, command(f"status {incident_id}")))["text"]
    assert incident_id in status and "đã tiếp nhận" in status and "Mức độ: cao" in status
    assert status.endswith(f"\nhttps://soc.gialai.gov.vn/#incident/{incident_id}")  # our own link, not defanged
    assert "Cách dùng /canhgac" in ok(post(sqlite_client, COMMANDS, command("")))["text"]
    english = ok(post(sqlite_client, COMMANDS, command("help", SOC)))["text"]
    assert english.startswith("Using /canhgac")
    assert "State: acknowledged" in ok(post(sqlite_client, COMMANDS, command(f"status {incident_id}", SOC)))["text"]
    assert "Hãy ghi số sự cố" in ok(post(sqlite_client, COMMANDS, command("ack")))["text"]
    assert "Không hiểu lệnh “xoá hết”" in ok(post(sqlite_client, COMMANDS, command("xoá hết")))["text"]


def test_replies_never_echo_attacker_text_live(sqlite_client: TestClient) -> None:
    title = "<!channel> *khẩn* xem <https://evil.example.com|đây>"
    incident_id = ok(open_incident(sqlite_client, title=title), 201)["id"]
    status = ok(post(sqlite_client, COMMANDS, command(f"status {incident_id}")))
    assert status["mrkdwn"] is False
    assert "<!channel>" not in status["text"] and "&lt;!channel&gt;" in status["text"]
    assert "https://evil" not in status["text"] and "hxxps://evil[.]example[.]com" in status["text"]
    unknown = ok(post(sqlite_client, COMMANDS, command("<!here> <@U0SOCLEAD> http://x.example.org")))["text"]
    assert unknown.startswith("Không hiểu lệnh “&lt;!here&gt; &lt;@U0SOCLEAD&gt; hxxp://x[.]example[.]org”")


def test_a_button_reply_goes_to_the_response_url_of_the_configured_slack_only(
        sqlite_client: TestClient, fake_slack: FakeSlack) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    elsewhere = FakeSlack()
    try:
        url = fake_slack.base_url.replace("/api/", "/actions/T0SOC/1/abc")
        ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id, response_url=url)))
        replies = [r for r in fake_slack.requests if r["path"] == "/actions/T0SOC/1/abc"]
        assert len(replies) == 1 and incident_id in replies[0]["text"]
        assert replies[0]["response_type"] == "ephemeral" and replies[0]["replace_original"] is False
        other = elsewhere.base_url.replace("/api/", "/actions/T0SOC/2/abc")
        ok(post(sqlite_client, INTERACTIONS, press("canhgac_ack", incident_id, response_url=other)))
        assert elsewhere.requests == []
    finally:
        elsewhere.close()


def test_the_open_button_only_needs_an_acknowledgement(sqlite_client: TestClient) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    before = snapshot(sqlite_client, incident_id)
    assert ok(post(sqlite_client, INTERACTIONS, press("canhgac_open", incident_id, STRANGER)))["text"] == ""
    assert snapshot(sqlite_client, incident_id) == before


def test_buttons_follow_the_incident_state(sqlite_client: TestClient, sqlite_store: Store) -> None:
    incident_id = ok(open_incident(sqlite_client), 201)["id"]
    incident = sqlite_store.get_incident(incident_id)
    assert incident is not None
    block = incident_buttons(incident, "https://soc.gialai.gov.vn/", "vi")
    assert block is not None
    assert [e["action_id"] for e in block["elements"]] == ["canhgac_ack", "canhgac_assign_me", "canhgac_escalate",
                                                            "canhgac_open"]
    assert {e.get("value") for e in block["elements"][:3]} == {incident_id}
    assert block["elements"][3]["url"] == f"https://soc.gialai.gov.vn/#incident/{incident_id}"
    acknowledged = incident.model_copy(update={"state": IncidentState.acknowledged})
    assert "canhgac_ack" not in [e["action_id"] for e in incident_buttons(acknowledged, None, "en")["elements"]]
    assert incident_buttons(incident.model_copy(update={"state": IncidentState.closed}), None, "vi") is None


def test_the_openapi_document_lists_the_slack_routes_as_signed(sqlite_client: TestClient) -> None:
    schema = ok(sqlite_client.get("/api/v1/openapi.json"))
    for path in (INTERACTIONS, COMMANDS):
        operation = schema["paths"][path]["post"]
        assert operation["security"] == [{"SlackSignature": []}]
        assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
        assert "401" in operation["responses"]


def test_an_unknown_agency_in_the_slack_users_is_refused_by_the_config_check(settings: Settings) -> None:
    from canhgac.core.config import parse_settings

    text = ("agencies:\n  - {id: quynhon, code: QNN, level: district, name_vi: Quy Nhơn, name_en: Quy Nhon}\n"
            "notifications:\n  slack:\n    users:\n"
            "      - {slack_id: U0123ABCD, name: a, role: agency_responder, agency: quy-nhon}\n")
    with pytest.raises(ConfigErrors) as caught:
        parse_settings(text, "canhgac.yaml")
    assert "notifications.slack.users[0].agency" in str(caught.value) and "quy-nhon" in str(caught.value)


def test_the_app_without_slack_configured_refuses_every_request(settings: Settings, sqlite_store: Store) -> None:
    bare = settings.model_copy(update={"notifications": NotificationSettings()})
    with TestClient(create_app(bare, sqlite_store, clock=FrozenClock(NOW))) as client:
        body = command("help")
        response = post(client, COMMANDS, body)
        assert response.status_code == 401 and "signing secret" in response.json()["detail"]
