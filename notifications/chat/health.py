"""How chat delivery is doing per channel, read from the outbox: what waits, and why a channel is stuck, in
Vietnamese and English with what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canhgac.storage.base import Store

#: Refusals that concern the channel or the app, not one message: the channel waits (nothing overtakes in it) and
#: is tried again every few minutes, so inviting the bot or granting the scope is all it takes.
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "missing_scope", "invalid_auth",
                            "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
                            "restricted_action", "ekm_access_denied", "team_access_not_granted"})

REASONS: dict[str, tuple[str, str]] = {
    "not_in_channel": ("Bot chưa ở trong kênh: mời bot vào kênh bằng lệnh /invite @canhgac",
                       "The bot is not in the channel: invite it with /invite @canhgac"),
    "channel_not_found": ("Không tìm thấy kênh: kiểm tra tên kênh trong notifications.routes, hoặc mời bot vào "
                          "kênh riêng tư (/invite @canhgac)",
                          "Channel not found: check the channel in notifications.routes, or invite the bot to the "
                          "private channel (/invite @canhgac)"),
    "is_archived": ("Kênh đã được lưu trữ: khôi phục kênh hoặc đổi kênh trong notifications.routes",
                    "The channel is archived: unarchive it or route to another channel"),
    "missing_scope": ("Ứng dụng Slack thiếu quyền: thêm quyền chat:write (và channels:history, groups:history) "
                      "rồi cài lại ứng dụng vào workspace",
                      "The Slack app lacks a scope: add chat:write (and channels:history, groups:history), then "
                      "reinstall the app"),
    "invalid_auth": ("Mã bot không hợp lệ: kiểm tra biến môi trường SLACK_BOT_TOKEN (xoxb-…)",
                     "The bot token is invalid: check SLACK_BOT_TOKEN (xoxb-…)"),
    "not_authed": ("Thiếu mã bot: đặt biến môi trường SLACK_BOT_TOKEN", "No bot token: set SLACK_BOT_TOKEN"),
    "token_revoked": ("Mã bot đã bị thu hồi: cài lại ứng dụng và cập nhật SLACK_BOT_TOKEN",
                      "The bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN"),
    "token_expired": ("Mã bot đã hết hạn: cập nhật SLACK_BOT_TOKEN", "The bot token expired: update SLACK_BOT_TOKEN"),
    "account_inactive": ("Tài khoản bot bị vô hiệu hóa: cài lại ứng dụng Slack",
                         "The bot account is inactive: reinstall the Slack app"),
    "invalid_blocks": ("Slack từ chối nội dung tin nhắn: báo lỗi cho nhóm phát triển Canh Gác",
                       "Slack refused the message's blocks: report it to the Canh Gác developers"),
    "msg_too_long": ("Tin nhắn quá dài: báo lỗi cho nhóm phát triển Canh Gác",
                     "The message is too long: report it to the Canh Gác developers"),
}


def reason(error: str, language: str = "vi") -> str:
    vi, en = REASONS.get(error, (f"Slack từ chối ({error}): xem nhật ký của Canh Gác",
                                 f"Slack refused it ({error}): see Canh Gác's log"))
    return en if language == "en" else vi


@dataclass(frozen=True)
class ChannelHealth:
    channel: str
    waiting: int  # notices not yet delivered (including the stuck ones)
    oldest: datetime | None
    error: str | None  # why the channel (or its first stuck notice) is not delivered
    error_at: datetime | None
    attempts: int
    agencies: frozenset[str]

    @property
    def stuck(self) -> bool:
        return self.error is not None

    def doc(self, language: str = "vi") -> dict[str, Any]:
        return {"channel": self.channel, "waiting": self.waiting,
                "oldest": self.oldest.isoformat() if self.oldest else None, "error": self.error,
                "error_at": self.error_at.isoformat() if self.error_at else None, "attempts": self.attempts,
                "reason_vi": reason(self.error, "vi") if self.error else None,
                "reason_en": reason(self.error, "en") if self.error else None,
                "reason": reason(self.error, language) if self.error else None}


def chat_health(store: Store, *, limit: int = 10_000) -> list[ChannelHealth]:
    """One entry per channel with notices waiting, by channel name."""
    by_channel: dict[str, list[Any]] = {}
    for notice in store.list_chat_notices(limit=limit):
        by_channel.setdefault(notice.channel, []).append(notice)
    health: list[ChannelHealth] = []
    for channel in sorted(by_channel):
        notices = by_channel[channel]
        failed = next((n for n in notices if n.error is not None), None)
        health.append(ChannelHealth(channel=channel, waiting=len(notices), oldest=notices[0].created,
                                    error=failed.error if failed else None,
                                    error_at=failed.error_at if failed else None,
                                    attempts=max(n.attempts for n in notices),
                                    agencies=frozenset(n.agency for n in notices if n.agency)))
    return health


def health_table(entries: list[ChannelHealth], language: str) -> list[list[str]]:
    """Rows for ``canhgac sources``: a header, then one row per channel with notices waiting."""
    header = ["kênh Slack", "đang chờ", "lỗi", "cách xử lý"] if language != "en" else \
        ["Slack channel", "waiting", "error", "what to do"]
    return [header, *([h.channel, str(h.waiting), h.error or "—", reason(h.error, language) if h.error else "—"]
                      for h in entries)]
