"""What Canh Gác answers in Slack (ephemeral replies to buttons and ``/canhgac``), Vietnamese first, English on
request. Replies are plain text (sent with ``mrkdwn: false``, so ``*bold*`` or a ``>`` quote in an attacker's title
stays text), and every value put in one — incident titles, numbers a person typed, assignees — goes through
``untrusted``: ``&<>`` escaped (no ``<!channel>``), links defanged. The one link is ours, to our own page."""

from __future__ import annotations

from collections.abc import Sequence

from canhgac.core.i18n import term
from canhgac.core.model import Incident
from canhgac.notifications.slack.buttons import incident_url
from canhgac.notifications.slack.messages import untrusted

VALUE_LIMIT = 200
TITLE_LIMIT = 300
PHRASES: dict[str, dict[str, str]] = {
    "vi": {
        "unmapped": "Tài khoản Slack {slack_id} chưa được gắn với người dùng Canh Gác nào, nên chưa thể thao tác "
                    "từ Slack. Hãy nhờ quản trị viên thêm bạn vào notifications.slack.users.",
        "not_found": "Không tìm thấy sự cố {id} trong phạm vi cơ quan, đơn vị của bạn.",
        "read_only": "Vai trò {role} chỉ được xem, không được thay đổi sự cố.",
        "acknowledged": "Đã tiếp nhận sự cố {id}.",
        "already": "Sự cố {id} đang ở trạng thái “{state}”, không cần tiếp nhận lại; không có gì thay đổi.",
        "assigned": "Đã giao sự cố {id} cho bạn ({name}).",
        "already_yours": "Sự cố {id} đã được giao cho bạn; không có gì thay đổi.",
        "not_open": "Sự cố {id} đã “{state}”; không thể thao tác này.",
        "escalated": "Đã báo cấp trên cho sự cố {id}: bước tiếp theo của chuỗi báo động sẽ được gửi ngay.",
        "conflict": "Sự cố {id} vừa được người khác thay đổi; hãy thử lại.",
        "invalid": "Không thực hiện được: {reason}",
        "status": "{id} — {title}\nMức độ: {severity} · Trạng thái: {state} · Người xử lý: {assignee} · "
                  "Số cảnh báo: {alerts}",
        "nobody": "chưa giao",
        "mine_none": "Bạn không có sự cố nào đang mở được giao cho mình.",
        "mine": "Sự cố đang mở giao cho bạn ({count}):",
        "more": "… và các sự cố khác: xem trên trang Canh Gác.",
        "unknown": "Không hiểu lệnh “{text}”.",
        "unknown_action": "Nút này không còn được hỗ trợ.",
        "need_id": "Hãy ghi số sự cố, ví dụ: /canhgac {word} QNN-2026-000123.",
        "help": "Cách dùng /canhgac:\n• status <số sự cố> — tình trạng một sự cố\n• mine hoặc của tôi — sự "
                "cố đang mở giao cho bạn\n• ack <số sự cố> — tiếp nhận sự cố\n• help — hướng dẫn này",
    },
    "en": {
        "unmapped": "The Slack account {slack_id} is not mapped to a Canh Gác user, so it cannot act from Slack yet. "
                    "Ask the administrator to add you to notifications.slack.users.",
        "not_found": "No incident {id} in your agency's scope.",
        "read_only": "The role {role} is read-only: it cannot change incidents.",
        "acknowledged": "Acknowledged incident {id}.",
        "already": "Incident {id} is already “{state}”; nothing changed.",
        "assigned": "Incident {id} is now assigned to you ({name}).",
        "already_yours": "Incident {id} is already assigned to you; nothing changed.",
        "not_open": "Incident {id} is “{state}”; this action no longer applies.",
        "escalated": "Escalated incident {id}: the next step of its escalation chain goes out now.",
        "conflict": "Incident {id} was just changed by someone else; try again.",
        "invalid": "Not done: {reason}",
        "status": "{id} — {title}\nSeverity: {severity} · State: {state} · Assignee: {assignee} · "
                  "Alerts: {alerts}",
        "nobody": "unassigned",
        "mine_none": "You have no open incidents assigned to you.",
        "mine": "Open incidents assigned to you ({count}):",
        "more": "… and more: see the Canh Gác page.",
        "unknown": "Unknown command “{text}”.",
        "unknown_action": "This button is no longer supported.",
        "need_id": "Give the incident number, e.g. /canhgac {word} QNN-2026-000123.",
        "help": "Using /canhgac:\n• status <incident number> — one incident's status\n• mine — your open "
                "incidents\n• ack <incident number> — acknowledge an incident\n• help — this help",
    },
}


def say(key: str, language: str, **values: str | int) -> str:
    """Our phrase with ``values`` made inert (numbers as they are)."""
    phrases = PHRASES.get(language, PHRASES["vi"])
    safe = {name: value if isinstance(value, int) else untrusted(value, VALUE_LIMIT) for name, value in values.items()}
    return phrases[key].format(**safe)


def unmapped(slack_id: str) -> str:
    """Both languages: we do not know the person's."""
    return f"{say('unmapped', 'vi', slack_id=slack_id)}\n{say('unmapped', 'en', slack_id=slack_id)}"


def state_name(incident: Incident, language: str) -> str:
    return term(f"state.{incident.state.value}", language)


def status(incident: Incident, language: str, public_url: str | None) -> str:
    title = incident.title_en if language == "en" and incident.title_en else incident.title
    text = PHRASES.get(language, PHRASES["vi"])["status"].format(
        id=untrusted(incident.id, VALUE_LIMIT), title=untrusted(title, TITLE_LIMIT),
        severity=term(f"severity.{incident.severity.value}", language), state=state_name(incident, language),
        assignee=untrusted(incident.assignee, VALUE_LIMIT) if incident.assignee else say("nobody", language),
        alerts=incident.alert_count)
    # Our own link to our own page: the one URL in a reply that is meant to be one.
    return f"{text}\n{incident_url(public_url, incident.id)}" if public_url else text


def mine(incidents: Sequence[Incident], language: str, *, more: bool) -> str:
    if not incidents:
        return say("mine_none", language)
    lines = [say("mine", language, count=len(incidents))]
    for incident in incidents:
        title = incident.title_en if language == "en" and incident.title_en else incident.title
        severity = term(f"severity.{incident.severity.value}", language)
        lines.append(f"• {untrusted(incident.id, VALUE_LIMIT)} — {severity} · {state_name(incident, language)} — "
                     f"{untrusted(title, TITLE_LIMIT)}")
    if more:
        lines.append(say("more", language))
    return "\n".join(lines)
