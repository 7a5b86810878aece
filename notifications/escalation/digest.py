"""The morning digest, one per on-call policy (an agency subtree) and local day: open incidents, what is new
overnight, and the legal deadlines due today or already passed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from canhgac.core.config import Settings
from canhgac.core.config_oncall import OnCallPolicy
from canhgac.core.directory import Directory
from canhgac.core.i18n import pick, term
from canhgac.core.model import Incident, Severity
from canhgac.core.timeutil import VIETNAM, local_display
from canhgac.incidents.clocks import LEGAL_KINDS, clocks
from canhgac.incidents.serious import assess
from canhgac.notifications.escalation import texts
from canhgac.notifications.escalation.models import Notice, NoticeKind, Plan
from canhgac.notifications.escalation.rotation import People, covers, on_call
from canhgac.notifications.escalation.state import DigestState, digest_key

#: A digest more than this late (Canh Gác was stopped at digest time) is skipped until the next morning.
LATEST = timedelta(hours=2)
#: Listed items and their title length: the whole digest stays under Slack's 3,000 characters of a section.
LISTED = 8
TITLE_LIMIT = 80


def plan_digests(*, now: datetime, incidents: Sequence[Incident], states: Mapping[str, dict[str, Any]],
                 settings: Settings, directory: Directory, people: People) -> Plan:
    out = Plan()
    escalation = settings.notifications.escalation
    if not escalation.digest.enabled:
        return out
    local = now.astimezone(VIETNAM)
    due = datetime.combine(local.date(), escalation.digest.at, tzinfo=VIETNAM)
    if not due <= local < due + LATEST:
        return out
    for policy in settings.notifications.oncall:
        key = digest_key(policy.name)
        if DigestState.from_doc(states.get(key)).last_day == local.date():
            continue
        scoped = [i for i in incidents if i.state.is_open and covers(policy, i.agency, directory)]
        text = digest_text(policy, scoped, now=now, since=_overnight_since(settings, due), settings=settings,
                           directory=directory, on_duty=people.slack_id(on_call(policy.rotation, now)))
        out.notices.append(Notice(key=f"digest:{policy.name}:{local.date().isoformat()}", kind=NoticeKind.digest,
                                  channel=policy.channel, text=text,
                                  agency=policy.agencies[0] if len(policy.agencies) == 1 else None))
        out.states[key] = DigestState(local.date()).to_doc()
    return out


def _overnight_since(settings: Settings, digest_at: datetime) -> datetime:
    """Yesterday evening's start of quiet hours; without quiet hours, the day before the digest."""
    quiet = settings.notifications.escalation.quiet_hours
    if quiet is not None and quiet.start > quiet.end:
        return datetime.combine(digest_at.date() - timedelta(days=1), quiet.start, tzinfo=VIETNAM)
    return digest_at - timedelta(days=1)


def digest_text(policy: OnCallPolicy, incidents: Sequence[Incident], *, now: datetime, since: datetime,
                settings: Settings, directory: Directory, on_duty: str) -> str:
    language = settings.notifications.language
    local_day = now.astimezone(VIETNAM).date()
    by_severity = Counter(i.severity for i in incidents)
    counts = ", ".join(f"{term(f'severity.{s.value}', language)} {by_severity[s]}"
                       for s in sorted(Severity, key=lambda s: -s.rank) if by_severity[s])
    fresh = sorted((i for i in incidents if i.created >= since), key=lambda i: (-i.severity.rank, i.created))
    due_today = []
    for incident in incidents:
        serious = assess(incident, directory, settings).serious
        for clock in clocks(incident, settings, now, serious=serious):
            pending = clock.kind in LEGAL_KINDS and clock.done_at is None
            if pending and clock.due.astimezone(VIETNAM).date() <= local_day:
                due_today.append((clock.due, incident, clock.kind))
    due_today.sort(key=lambda item: (item[0], item[1].id))
    lines = [pick(f"*Bản tin sáng {local_day:%d/%m/%Y} — {policy.name}*", f"*Morning digest {local_day:%d/%m/%Y} — "
                  f"{policy.name}*", language),
             pick(f"Người trực: {texts.mention(on_duty)}", f"On call: {texts.mention(on_duty)}", language),
             pick(f"Sự cố đang mở: {len(incidents)}", f"Open incidents: {len(incidents)}", language)
             + (f" ({counts})" if counts else ""),
             pick(f"Mới qua đêm (từ {local_display(since)}): {len(fresh)}",
                  f"New overnight (since {local_display(since)}): {len(fresh)}", language)]
    lines += [f"• {texts.incident_label(i, language, title_limit=TITLE_LIMIT)}" for i in fresh[:LISTED]]
    lines += _more(len(fresh), language)
    lines.append(pick(f"Hạn chót pháp lý hôm nay hoặc đã quá: {len(due_today)}",
                      f"Legal deadlines due today or passed: {len(due_today)}", language))
    for moment, incident, kind in due_today[:LISTED]:
        vi, en = texts.CLOCK_NAMES[kind]
        label = texts.incident_label(incident, language, title_limit=TITLE_LIMIT)
        lines.append(f"• {local_display(moment)} — {pick(vi, en, language)}: {label}")
    lines += _more(len(due_today), language)
    return "\n".join(lines)


def _more(count: int, language: str) -> list[str]:
    extra = count - LISTED
    return [pick(f"… và {extra} mục nữa trên trang Canh Gác", f"… and {extra} more on the Canh Gác page",
                 language)] if extra > 0 else []
