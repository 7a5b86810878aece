"""Operator view of collection: per-source status (lag, events per second, dead letters, last error)."""

from __future__ import annotations

from typing import Any

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import StoreDep
from canhgac.api.problems import problem_responses
from canhgac.collectors.status import SourceStatus, saved_statuses
from canhgac.notifications.chat.health import chat_health
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

router = APIRouter(tags=["sources"], responses=problem_responses(401, 503))


class SourceOut(BaseModel):
    id: str = Field(description="file:PATH, ingest:PATH, syslog-udp:NAME, syslog-tcp:NAME, http:NAME, spool")
    kind: str
    format: str
    path: str
    agency: str | None
    system: str | None
    lines: int
    events: int
    dead_letters: int
    flagged: int = Field(description="events stored with a flag (invalid UTF-8, truncated, unknown fields…)")
    dropped: int = Field(description="UDP datagrams lost (socket overflow, or store down with the spool full)")
    future_time: int = Field(0, description="events whose own time was too far ahead: stored at arrival time")
    late: int = Field(0, description="events left out of correlation as later than the allowed lateness")
    committed_events: int
    lag_bytes: int = Field(description="bytes written but not yet read (spool: bytes waiting for the store)")
    lag_seconds: float = Field(description="how long the source has been behind (0 when caught up)")
    events_per_second: float = Field(description="committed events per second over the last minute")
    last_event_time: str | None
    last_read_at: str | None
    last_error: str | None
    last_error_at: str | None
    updated: str | None


def current_statuses(store: Any, collection: Any) -> list[SourceStatus]:
    """Saved statuses, with those of this process's own sources taken live."""
    statuses = {status.id: status for status in saved_statuses(store)}
    if collection is not None:
        for status in collection.board.snapshot():
            statuses[status.id] = status
    return [statuses[key] for key in sorted(statuses)]


@router.get("/sources", response_model=list[SourceOut], summary="Status of every log source, within your scope")
def list_sources(request: Request, principal: CurrentPrincipal, store: StoreDep) -> list[SourceOut]:
    statuses = current_statuses(store, getattr(request.app.state, "collection", None))
    visible = [s for s in statuses if principal.scope is None or (s.agency is not None and s.agency in principal.scope)]
    return [SourceOut.model_validate(s.doc()) for s in visible]


class ChatChannelOut(BaseModel):
    channel: str
    waiting: int = Field(description="notices in the outbox not yet accepted by Slack")
    oldest: str | None
    error: str | None = Field(description="Slack's error code when the channel is stuck (not_in_channel, …)")
    error_at: str | None
    attempts: int
    reason_vi: str | None = Field(description="what is wrong and what to do, in Vietnamese")
    reason_en: str | None


@router.get("/sources/chat", response_model=list[ChatChannelOut],
            summary="Chat delivery per Slack channel: notices waiting, and why a channel is stuck (within your scope)")
def chat_channels(principal: CurrentPrincipal, store: StoreDep) -> list[ChatChannelOut]:
    entries = [h for h in chat_health(store) if principal.scope is None or h.agencies & principal.scope]
    return [ChatChannelOut.model_validate(h.doc()) for h in entries]
