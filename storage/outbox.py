"""The chat outbox: notices waiting to be delivered, kept in the store until the chat service accepted them.

A notice is written by whoever changed an incident (ingestion, the page, the API, a Slack action, escalation) and
read, sent and removed by one dispatcher (``canhgac.notifications.chat.dispatcher``). Ids are chosen by the writer
from what the notice is about (channel, incident, change), so writing the same change twice keeps one notice.
Notices of one channel are delivered in ``(created, id)`` order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

#: ``post``: the incident's top message (opens its thread); ``reply``: a message in that thread; ``update``: the top
#: message rewritten in place; ``message``: a top-level message that belongs to no incident (a digest).
NoticeKind = Literal["post", "reply", "update", "message"]


class ChatNotice(BaseModel):
    id: str
    channel: str
    kind: NoticeKind
    incident_id: str | None = None
    agency: str | None = None
    created: datetime
    text: str = ""
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    # delivery state, written by the dispatcher only ------------------------------------------------
    attempts: int = 0
    not_before: datetime | None = None  # backing off (429, 5xx, timeouts) until then
    #: Set before a send whose outcome we may never learn (crash, timeout): such a notice is looked up in the
    #: channel's history before it is sent again.
    sending_since: datetime | None = None
    error: str | None = None  # Slack's error code of a refusal that retrying does not cure
    error_at: datetime | None = None

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
