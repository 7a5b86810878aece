"""The three Slack Web API calls the outbox needs: post (with the notice id in the message's metadata), update,
and find a message by that id (after a crash or a timeout, before posting again)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from canhgac.notifications.chat.delivery import Delivery
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
METADATA_EVENT = "canhgac_notice"
#: Sending options that keep Slack from formatting, linking or unfurling anything (messages.py explains the text).
INERT = {"mrkdwn": False, "unfurl_links": False, "unfurl_media": False, "link_names": False, "parse": "none"}


class SlackSender:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, notice_id: str,
             thread_ts: str | None = None) -> Delivery:
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"notice_id": notice_id}}
        return self._call(lambda: self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                               thread_ts=thread_ts, metadata=metadata, **INERT))

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Delivery:
        return self._call(lambda: self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks,
                                                          parse="none", link_names=False))

    def find(self, channel: str, notice_id: str, *, since: datetime, thread_ts: str | None = None) -> Delivery:
        """The message carrying ``notice_id`` posted since ``since`` (``ok`` with its ts), ``ok`` with no ts when
        there is none, or why Slack could not be asked."""
        oldest = f"{since.timestamp():.6f}"

        def look() -> Any:
            if thread_ts is not None:
                return self.client.conversations_replies(channel=channel, ts=thread_ts, oldest=oldest,
                                                         include_all_metadata=True, limit=200)
            return self.client.conversations_history(channel=channel, oldest=oldest, include_all_metadata=True,
                                                     limit=200)

        found = self._call(look)
        if not found.ok:
            return found
        for message in found.response.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("notice_id") == notice_id:
                return Delivery.accepted(str(message["ts"]), found.response.get("channel"))
        return Delivery.accepted(None, None)

    def _call(self, call: Any) -> Delivery:
        try:
            response = call()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            if status == 429:
                return Delivery.rate_limited(_retry_after(exc.response.headers))
            if status >= 500:
                return Delivery.transient(error, uncertain=True)
            return Delivery.refused(error)
        except (OSError, TimeoutError) as exc:  # refused, cut or timed out: Slack may have the message
            return Delivery.transient(type(exc).__name__, uncertain=True)
        data = response.data if isinstance(response.data, dict) else {}
        return Delivery(ok=True, ts=data.get("ts"), channel_id=data.get("channel"), response=data)


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                break
    return 1.0
