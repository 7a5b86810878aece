"""What a chat service said to one call, and the service as the dispatcher sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    ok: bool
    ts: str | None = None
    channel_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # rate limited: wait this long
    uncertain: bool = False  # the message may have been posted all the same (timeout, cut connection, 5xx)
    response: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def accepted(cls, ts: str | None, channel_id: str | None) -> Delivery:
        return cls(ok=True, ts=ts, channel_id=channel_id)

    @classmethod
    def rate_limited(cls, seconds: float) -> Delivery:
        return cls(ok=False, error="ratelimited", retry_after=seconds)

    @classmethod
    def transient(cls, error: str, *, uncertain: bool) -> Delivery:
        return cls(ok=False, error=error, uncertain=uncertain)

    @classmethod
    def refused(cls, error: str) -> Delivery:
        return cls(ok=False, error=error)

    @property
    def permanent(self) -> bool:
        return not self.ok and self.retry_after is None and not self.uncertain


class ChatSender(Protocol):
    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, notice_id: str,
             thread_ts: str | None = None) -> Delivery: ...

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Delivery: ...

    def find(self, channel: str, notice_id: str, *, since: datetime,
             thread_ts: str | None = None) -> Delivery: ...
