"""The buttons under an incident's top message in Slack, and the action ids the interactivity endpoint
(api/routes/slack.py) answers. A button's value is the incident id; who pressed it comes from Slack's signed
payload, never from the message, so an edited or forwarded message cannot act for someone else."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from canhgac.core.model import Incident, IncidentState

ACK = "canhgac_ack"
ASSIGN_ME = "canhgac_assign_me"
ESCALATE = "canhgac_escalate"
OPEN = "canhgac_open"  # a link: Slack opens it, no request reaches us beyond its acknowledgement
ACTIONS_BLOCK_ID = "canhgac_actions"
ACTIONS = frozenset({ACK, ASSIGN_ME, ESCALATE, OPEN})

_LABELS: dict[str, dict[str, str]] = {
    "vi": {ACK: "Tiếp nhận", ASSIGN_ME: "Giao cho tôi", ESCALATE: "Báo cấp trên", OPEN: "Mở sự cố",
           "confirm.title": "Báo cấp trên?", "confirm.text": "Sự cố sẽ được chuyển lên bước tiếp theo của chuỗi "
           "báo động (người trực kế tiếp, kênh, rồi trưởng SOC).", "confirm.yes": "Báo cấp trên",
           "confirm.no": "Thôi"},
    "en": {ACK: "Acknowledge", ASSIGN_ME: "Assign to me", ESCALATE: "Escalate", OPEN: "Open incident",
           "confirm.title": "Escalate?", "confirm.text": "The incident goes to the next step of its escalation "
           "chain (the next on-call person, the channel, then the SOC lead).", "confirm.yes": "Escalate",
           "confirm.no": "Cancel"},
}


def incident_url(public_url: str, incident_id: str) -> str:
    """The incident on the page (dashboards/web/detail.js opens ``#incident/<id>``)."""
    return f"{public_url.rstrip('/')}/#incident/{quote(incident_id, safe='')}"


def incident_buttons(incident: Incident, public_url: str | None, language: str) -> dict[str, Any] | None:
    """One ``actions`` block for the incident's top message. Acknowledge is offered only while the incident is
    new, the link only when the page's address is configured; None when nothing is left to press (Slack refuses
    an empty ``actions`` block)."""
    words = _LABELS.get(language, _LABELS["vi"])
    elements: list[dict[str, Any]] = []
    if incident.state is IncidentState.new:
        elements.append(_button(words[ACK], ACK, incident.id, style="primary"))
    if incident.state.is_open:
        elements.append(_button(words[ASSIGN_ME], ASSIGN_ME, incident.id))
        escalate = _button(words[ESCALATE], ESCALATE, incident.id, style="danger")
        escalate["confirm"] = {"title": _text(words["confirm.title"]), "text": _text(words["confirm.text"]),
                               "confirm": _text(words["confirm.yes"]), "deny": _text(words["confirm.no"]),
                               "style": "danger"}
        elements.append(escalate)
    if public_url:
        elements.append({"type": "button", "action_id": OPEN, "text": _text(words[OPEN]),
                         "url": incident_url(public_url, incident.id)})
    if not elements:
        return None
    return {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": elements}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": _text(label), "value": value}
    if style is not None:
        button["style"] = style
    return button


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}
