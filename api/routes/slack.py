"""Slack's side doors: the interactivity endpoint (the buttons under an incident's message) and the ``/canhgac``
slash command. Both are authenticated by Slack's request signature (api/slack_signature.py), act as the Canh Gác
user the Slack member is mapped to (api/slack_actions.py), and answer at once with an ephemeral reply (Slack
waits three seconds); changes reach the incident's thread through the outbox."""

from __future__ import annotations

import json
import logging
import unicodedata
import urllib.request
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from canhgac.api import slack_replies as replies
from canhgac.api.problems import InvalidParameter, problem_responses
from canhgac.api.slack_actions import SlackActor, SlackDesk, slack_actor
from canhgac.api.slack_hooks import change_hook, escalation_hook
from canhgac.api.slack_signature import SignedSlackBody
from canhgac.core.config import Settings
from canhgac.notifications.slack import buttons
from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)
router = APIRouter(prefix="/slack", tags=["slack"], responses=problem_responses(401, 422, 503))
RESPONSE_URL_HOST = "hooks.slack.com"
RESPONSE_TIMEOUT = 5.0
TEXT_LIMIT = 300


class SlackReply(BaseModel):
    """Slack shows ``text`` to the one person who pressed or typed (``ephemeral``), as plain text."""

    response_type: Literal["ephemeral"] = "ephemeral"
    replace_original: bool = False
    mrkdwn: bool = False
    text: str = Field(description="Empty when there is nothing to say (the link button)")


def _form(description: str, properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required,
              "properties": {name: {"type": "string", "description": text} for name, text in properties.items()}}
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}


INTERACTION_FORM = _form("Slack's interaction request: the form field payload holds a block_actions JSON document",
                         {"payload": "JSON: type, user.id, actions[].action_id and value, response_url"},
                         ["payload"])
COMMAND_FORM = _form("Slack's slash command request", {
    "command": "/canhgac", "text": "status <số sự cố> | mine | của tôi | ack <số sự cố> | help",
    "user_id": "The Slack member", "team_id": "The workspace", "response_url": "Where later replies go",
    "trigger_id": "For dialogs (unused)"}, ["user_id"])


@router.post("/interactions", response_model=SlackReply, openapi_extra=INTERACTION_FORM,
             summary="Slack interactivity (buttons on an incident's message: acknowledge, assign to me, escalate); "
                     "authenticated by X-Slack-Signature, not an API key")
def interactions(body: SignedSlackBody, request: Request, background: BackgroundTasks) -> SlackReply:
    payload = _payload(body)
    if payload.get("type") != "block_actions":
        return SlackReply(text="")  # shortcuts, dialogs: none offered
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    pressed = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    action = pressed[0] if pressed and isinstance(pressed[0], dict) else {}
    action_id, value = str(action.get("action_id", "")), str(action.get("value", ""))[:TEXT_LIMIT]
    if action_id == buttons.OPEN:
        return SlackReply(text="")  # a link: Slack opened it, we only acknowledge
    who, text = _who(request, str(user.get("id", "")))
    if who is not None:
        desk = _desk(request)
        act = {buttons.ACK: desk.acknowledge, buttons.ASSIGN_ME: desk.assign_me, buttons.ESCALATE: desk.escalate}
        handler = act.get(action_id)
        text = handler(who, value) if handler is not None else replies.say("unknown_action", who.language)
    reply = SlackReply(text=text)
    response_url = payload.get("response_url")
    if isinstance(response_url, str) and _may_post_to(response_url, request.app.state.settings):
        # Slack ignores the body of an answer to a button press: the reply goes to response_url, after the 200.
        background.add_task(_post_reply, response_url, reply)
    return reply


@router.post("/commands", response_model=SlackReply, openapi_extra=COMMAND_FORM,
             summary="The /canhgac slash command (status, mine, ack, help); authenticated by X-Slack-Signature")
def commands(body: SignedSlackBody, request: Request) -> SlackReply:
    form = {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
    who, text = _who(request, form.get("user_id", ""))
    if who is None:
        return SlackReply(text=text)
    verb, argument = parse_command(form.get("text", ""))
    desk = _desk(request)
    if verb == "mine":
        return SlackReply(text=desk.mine(who))
    if verb in ("status", "ack"):
        if not argument:
            return SlackReply(text=replies.say("need_id", who.language, word=verb))
        run = desk.status if verb == "status" else desk.acknowledge
        return SlackReply(text=run(who, argument))
    if verb == "help":
        return SlackReply(text=replies.say("help", who.language))
    unknown = replies.say("unknown", who.language, text=form.get("text", "")[:TEXT_LIMIT])
    return SlackReply(text=f"{unknown}\n{replies.say('help', who.language)}")


#: Words of ``/canhgac``, Vietnamese and English (compared after NFC and casefold).
VERBS = {"status": "status", "trạng-thái": "status", "trangthai": "status", "mine": "mine", "của tôi": "mine",
         "cua toi": "mine", "ack": "ack", "tiếp nhận": "ack", "tiep nhan": "ack", "help": "help", "giúp": "help",
         "trợ giúp": "help"}


def parse_command(text: str) -> tuple[str, str | None]:
    """``status QNN-2026-000001`` → ("status", "QNN-2026-000001"); the verb may be two words (``của tôi``)."""
    words = unicodedata.normalize("NFC", text).split()
    if not words:
        return "help", None
    for length in (2, 1):
        verb = VERBS.get(" ".join(words[:length]).casefold()) if len(words) >= length else None
        if verb is not None:
            rest = words[length:]
            # Incident numbers are upper case (BDH-2026-000123); a phone keyboard often is not.
            return verb, (rest[0].upper() if rest else None)
    return "unknown", None


def _payload(body: bytes) -> dict[str, Any]:
    raw = parse_qs(body.decode("utf-8", "replace")).get("payload", [""])[0]
    try:
        payload = json.loads(raw)
    except ValueError:
        raise InvalidParameter("body.payload", "not a JSON document") from None
    if not isinstance(payload, dict):
        raise InvalidParameter("body.payload", "not a JSON object")
    return payload


def _who(request: Request, slack_id: str) -> tuple[SlackActor | None, str]:
    state = request.app.state
    who = slack_actor(slack_id, state.settings, state.directory)
    return (who, "") if who is not None else (None, replies.unmapped(slack_id[:TEXT_LIMIT] or "?"))


def _desk(request: Request) -> SlackDesk:
    state = request.app.state
    slack = state.settings.notifications.slack
    return SlackDesk(state.incidents, on_change=change_hook(state.incidents),
                     on_escalate=escalation_hook(state.incidents),
                     public_url=slack.public_url if slack is not None else None)


def _may_post_to(url: str, settings: Settings) -> bool:
    """Only back to Slack (or the Slack the configuration names, e.g. a local stand-in): never wherever a payload
    says, even a signed one."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname == RESPONSE_URL_HOST:
        return True
    slack = settings.notifications.slack
    configured = urlsplit(slack.base_url) if slack is not None else None
    return configured is not None and (parts.scheme, parts.netloc) == (configured.scheme, configured.netloc)


def _post_reply(url: str, reply: SlackReply) -> None:
    data = json.dumps(reply.model_dump()).encode()
    post = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(post, timeout=RESPONSE_TIMEOUT) as answer:  # the host was checked: _may_post_to
            answer.read()
    except OSError as exc:  # the reply is a courtesy: the change itself is stored and announced in the thread
        log.warning("Slack reply to response_url failed: %s", exc)
