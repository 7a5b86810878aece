"""What the escalation says, Vietnamese first. Our own mrkdwn: the only mention is a ``<@U…>`` built from a Slack
member id the planner chose; every incident-derived word goes through ``untrusted`` (escaped, defanged)."""

from __future__ import annotations

from datetime import datetime

from canhgac.core.config_oncall import SLACK_ID
from canhgac.core.i18n import pick, term
from canhgac.core.model import Incident
from canhgac.core.timeutil import local_display
from canhgac.incidents.clocks import ClockKind
from canhgac.notifications.slack.messages import escape, untrusted

TITLE_LIMIT = 300
CLOCK_NAMES = {
    ClockKind.incident_notice: ("Thông báo sự cố (Thông tư 20/2017/TT-BTTTT)",
                                "Incident notice (Circular 20/2017/TT-BTTTT)"),
    ClockKind.breach_notice: ("Thông báo vi phạm dữ liệu cá nhân (72 giờ)", "Personal data breach notice (72 hours)"),
    ClockKind.serious_initial_report: ("Báo cáo ban đầu sự cố nghiêm trọng", "Serious incident initial report"),
}


def mention(slack_id: str) -> str:
    if not SLACK_ID.match(slack_id):  # never a mention of anything but a member id
        raise ValueError(f"not a Slack member id: {slack_id!r}")
    return f"<@{slack_id}>"


def incident_label(incident: Incident, language: str, *, title_limit: int = TITLE_LIMIT) -> str:
    title = incident.title_en if language == "en" and incident.title_en else incident.title
    severity = term(f"severity.{incident.severity.value}", language)
    return f"*{untrusted(incident.id, 64)}* — {untrusted(title, title_limit)} ({severity})"


def page_text(incident: Incident, person: str, language: str) -> str:
    return pick(f"{mention(person)} đang trực: sự cố {incident_label(incident, language)} chưa được tiếp nhận.",
                f"{mention(person)} you are on call: incident {incident_label(incident, language)} is not "
                "acknowledged yet.", language)


def next_person_text(incident: Incident, person: str, minutes: int, language: str) -> str:
    return pick(f"Chưa tiếp nhận sau {minutes} phút — chuyển cho người trực kế tiếp {mention(person)}: "
                f"{incident_label(incident, language)}.",
                f"Not acknowledged after {minutes} minutes — escalated to the next on call {mention(person)}: "
                f"{incident_label(incident, language)}.", language)


def channel_text(incident: Incident, on_call: str, minutes: int, language: str) -> str:
    return pick(f":rotating_light: Sự cố {incident_label(incident, language)} chưa được tiếp nhận sau {minutes} phút. "
                f"Người trực: {mention(on_call)}. Ai xử lý được xin tiếp nhận trong luồng của sự cố.",
                f":rotating_light: Incident {incident_label(incident, language)} is not acknowledged after {minutes} "
                f"minutes. On call: {mention(on_call)}. Whoever can handle it, please acknowledge in its thread.",
                language)


def lead_text(incident: Incident, lead: str, minutes: int, language: str) -> str:
    return pick(f"Chưa tiếp nhận sau {minutes} phút — báo trưởng SOC {mention(lead)}: "
                f"{incident_label(incident, language)}.",
                f"Not acknowledged after {minutes} minutes — escalated to the SOC lead {mention(lead)}: "
                f"{incident_label(incident, language)}.", language)


def requested_text(incident: Incident, person: str, actor: str, language: str) -> str:
    who = escape(actor[:64]) or "?"  # a user name of ours: escaped like the outbox's actors, not defanged
    return pick(f"{who} yêu cầu báo cấp trên — {mention(person)} xin xem ngay: {incident_label(incident, language)}.",
                f"{who} asked to escalate — {mention(person)} please look now: {incident_label(incident, language)}.",
                language)


def reminder_text(incident: Incident, kind: ClockKind, due: datetime, hours: float, person: str,
                  language: str) -> str:
    vi, en = CLOCK_NAMES[kind]
    left = f"{hours:g}"
    return pick(f"{mention(person)} nhắc hạn: *{vi}* của sự cố {incident_label(incident, language)} đến hạn lúc "
                f"{local_display(due)} (còn khoảng {left} giờ).",
                f"{mention(person)} deadline reminder: the *{en}* of incident {incident_label(incident, language)} is "
                f"due at {local_display(due)} (about {left} hours left).", language)


def overdue_text(incident: Incident, kind: ClockKind, due: datetime, person: str, language: str) -> str:
    vi, en = CLOCK_NAMES[kind]
    return pick(f"{mention(person)} *quá hạn*: *{vi}* của sự cố {incident_label(incident, language)} đã đến hạn lúc "
                f"{local_display(due)} mà chưa ghi nhận đã gửi.",
                f"{mention(person)} *overdue*: the *{en}* of incident {incident_label(incident, language)} was due at "
                f"{local_display(due)} and is not recorded as sent.", language)
