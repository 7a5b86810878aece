"""What an incident change says in its thread: the notices for one channel, as pure functions.

Growing incidents do not reply per alert: a reply when the alert count passes 10, 20, 50, 100, 200, 500, … (and
the top message is rewritten then), so a noisy scan makes a handful of replies, not thousands.
"""

from __future__ import annotations

from canhgac.core.i18n import pick, term
from canhgac.core.model import Incident
from canhgac.incidents.models import CLOSED_STATES, IncidentChange
from canhgac.notifications.chat.notices import post_notice, reply_notice, update_notice
from canhgac.notifications.slack.messages import escape, reply_message, untrusted
from canhgac.storage.outbox import ChatNotice


def growth_marks(before: int, after: int) -> list[int]:
    """The thresholds (10, 20, 50, 100, …) passed going from ``before`` alerts to ``after``."""
    marks: list[int] = []
    scale = 10
    while scale <= after:
        marks += [m for m in (scale, 2 * scale, 5 * scale) if before < m <= after]
        scale *= 10
    return marks


def _state(incident: Incident, language: str) -> str:
    return term(f"state.{incident.state.value}", language)


def _severity(incident: Incident, language: str) -> str:
    return term(f"severity.{incident.severity.value}", language)


#: The page's words for how an incident ended (dashboards/web/i18n.json).
RESOLUTIONS = {"true_positive": ("Tấn công thật", "True positive"),
               "false_positive": ("Cảnh báo nhầm", "False positive"),
               "benign": ("Hoạt động hợp lệ", "Benign"), "duplicate": ("Trùng lặp", "Duplicate")}
#: Log-derived text in a reply (rule titles, comments quoting logs) is cut to this and made inert.
QUOTE_LIMIT = 2000


def _reply(channel: str, incident: Incident, key: str, text: str) -> ChatNotice:
    """``text``: our words with every value already passed through ``escape`` (names) or ``untrusted`` (the rest)."""
    plain, blocks = reply_message(text)
    return reply_notice(channel, incident, key, plain, blocks)


def ingest_notices(channel: str, change: IncidentChange, language: str) -> list[ChatNotice]:
    """Notices for what detection did to an incident: the top message when it is new (or rose into this channel's
    severities), replies for a rise, a reopening, rules joining and growth past a threshold."""
    incident = change.incident
    lang = language
    if change.created:
        return [post_notice(channel, incident)]
    replies: list[ChatNotice] = []
    if change.severity_raised:
        replies.append(_reply(channel, incident, f"severity:{incident.severity.value}",
                              pick(f"Mức độ tăng lên {_severity(incident, lang)}",
                                   f"Severity raised to {_severity(incident, lang)}", lang)))
    if change.reopened:
        replies.append(_reply(channel, incident, f"reopen:{incident.reopen_count}",
                              pick("Mở lại: có cảnh báo mới sau khi đã khắc phục",
                                   "Reopened: new alerts after it was resolved", lang)))
    for rule_id in change.rules_joined:
        hit = next((h for h in incident.rules if h.rule_id == rule_id), None)
        title = (hit.title_vi if lang == "vi" and hit.title_vi else hit.title) if hit is not None else rule_id
        title, rule_id = untrusted(title, QUOTE_LIMIT), untrusted(rule_id, 200)
        replies.append(_reply(channel, incident, f"rule:{rule_id}",
                              pick(f"Luật mới tham gia: {title} ({rule_id})", f"New rule joined: {title} ({rule_id})",
                                   lang)))
    before = incident.alert_count - sum(a.count for a in change.new_alerts)
    for mark in growth_marks(before, incident.alert_count)[-1:]:
        replies.append(_reply(channel, incident, f"grew:{mark}",
                              pick(f"Sự cố đã có {incident.alert_count} cảnh báo",
                                   f"The incident now has {incident.alert_count} alerts", lang)))
    if not replies:
        return []
    head = [post_notice(channel, incident)] if change.severity_raised else []  # a channel it just rose into
    return [*head, *replies, update_notice(channel, incident)]


def person_notices(channel: str, before: Incident | None, after: Incident, actor: str,
                   language: str) -> list[ChatNotice]:
    """Notices for a change made by a person (page, API, Slack): state, severity, assignee, comments for chat,
    resolution; the top message is rewritten after any change."""
    lang = language
    version = after.version or after.updated.isoformat()
    actor = escape(actor)
    replies: list[ChatNotice] = []
    if before is not None and before.state != after.state:
        text = pick(f"Trạng thái: {_state(before, lang)} → {_state(after, lang)} (bởi {actor})",
                    f"State: {_state(before, lang)} → {_state(after, lang)} (by {actor})", lang)
        if after.state in CLOSED_STATES and after.resolution is not None:
            vi, en = RESOLUTIONS.get(after.resolution.value, (after.resolution.value, after.resolution.value))
            text += pick(f". Kết luận: {vi}", f". Resolution: {en}", lang)
        replies.append(_reply(channel, after, f"state:{version}", text))
    if before is not None and before.severity != after.severity:
        replies.append(_reply(channel, after, f"severity:{version}",
                              pick(f"Mức độ: {_severity(before, lang)} → {_severity(after, lang)} (bởi {actor})",
                                   f"Severity: {_severity(before, lang)} → {_severity(after, lang)} (by {actor})",
                                   lang)))
    if before is not None and before.assignee != after.assignee:
        assignee = escape(after.assignee or "—")
        replies.append(_reply(channel, after, f"assignee:{version}",
                              pick(f"Người xử lý: {assignee} (giao bởi {actor})",
                                   f"Assignee: {assignee} (assigned by {actor})", lang)))
    known = {c.id for c in before.comments} if before is not None else set()
    for comment in after.comments:
        if comment.id not in known and comment.to_chat:
            replies.append(_reply(channel, after, f"comment:{comment.id}",
                                  f"💬 {escape(comment.author)}: {untrusted(comment.text, QUOTE_LIMIT)}"))
    if before is not None and before.model_copy(update={"version": None, "updated": after.updated}) == \
            after.model_copy(update={"version": None}):
        return replies
    return [*replies, update_notice(channel, after)]
