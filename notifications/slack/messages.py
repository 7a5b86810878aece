"""Block Kit messages for incidents.

Titles, entity values and anything else derived from logs are attacker-controlled. They travel only in
``plain_text`` objects (no mrkdwn: ``*bold*``, fences, ``>`` quotes and ``<url|label>`` links stay text; no
``:emoji:`` codes), with URLs and host names defanged (``hxxps://example[.]com``) so Slack links nothing, and
``&<>`` escaped so ``<!channel>`` pings no one. Only our own labels are mrkdwn, ``verbatim``.
"""

from __future__ import annotations

import re
from typing import Any

from canhgac.core.directory import Directory
from canhgac.core.i18n import term
from canhgac.core.model import Incident
from canhgac.core.timeutil import local_display
from canhgac.incidents.service import IncidentChange
from canhgac.notifications.slack.buttons import incident_buttons, incident_url

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
HEADER_LIMIT = 150
FACTS_PER_SECTION = 3  # a label and a value field each; Slack takes at most 10 fields per section
SEVERITY_MARK = {"low": "🔵", "medium": "🟡", "high": "🟠", "critical": "🔴"}
_SCHEME = re.compile(r"(?i)(?<![\w+.-])([a-z][a-z0-9+.-]*)://")
_DEFANGED_SCHEMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps"}
#: A dot between a letter or digit and a letter: the label boundaries of host names (``www.example.gov.vn``,
#: ``user@example.com``) that Slack would link; dotted numbers (addresses, versions) are left alone.
_HOST_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
ASSIGNEE = {"vi": "Người xử lý", "en": "Assignee"}
OPEN_PAGE = {"vi": "Mở sự cố trên Canh Gác", "en": "Open the incident in Canh Gác"}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defang(text: str) -> str:
    """``https://dvc.example.gov.vn/x`` → ``hxxps://dvc[.]example[.]gov[.]vn/x``: readable, not a link."""
    def scheme(match: re.Match[str]) -> str:
        name = match.group(1)
        defanged = _DEFANGED_SCHEMES.get(name.lower())
        return f"{defanged}://" if defanged else f"{name}[:]//"

    return _HOST_DOT.sub("[.]", _SCHEME.sub(scheme, text))


def untrusted(text: str, limit: int) -> str:
    """Log-derived text made inert for Slack, cut to ``limit`` without leaving half an entity."""
    safe = escape(defang(text))
    if len(safe) <= limit:
        return safe
    return _PARTIAL_ENTITY.sub("", safe[:limit - 1]) + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": untrusted(text, limit) or "—", "emoji": False}


def label(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": f"*{escape(text)}*", "verbatim": True}


def incident_message(change: IncidentChange, directory: Directory, language: str) -> tuple[str, list[dict]]:
    """The top message as it was first posted (a new incident, or a severity rise)."""
    headline = term("new_incident" if change.created else "severity_raised", language)
    return top_message(change.incident, directory, language, headline=headline)


def top_message(incident: Incident, directory: Directory, language: str, *, headline: str | None = None,
                public_url: str | None = None) -> tuple[str, list[dict]]:
    """An incident's top message: key facts as they are now, the link to its page and the buttons."""
    headline = headline or term("incident", language).capitalize()
    title = incident.title_en if language == "en" and incident.title_en else incident.title
    severity = term(f"severity.{incident.severity.value}", language)
    agency = directory.agencies.get(incident.agency)
    agency_name = agency.name(language) if agency else incident.agency
    system = directory.systems.get(incident.system or "")
    facts: list[tuple[str, str]] = [
        (term("severity", language), f"{SEVERITY_MARK[incident.severity.value]} {severity}"),
        (term("agency", language), agency_name),
        (term("system", language), system.name if system else (incident.system or "—")),
        (term("source", language), incident.entities.get("source.ip", "—")),
        (term("alerts", language), str(incident.alert_count)),
        (term("first_seen", language), local_display(incident.first_seen)),
        (term("state", language), term(f"state.{incident.state.value}", language)),
        (ASSIGNEE[language], incident.assignee or "—"),
        (term("last_seen", language), local_display(incident.last_seen)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{headline} {incident.id}", HEADER_LIMIT)},
        {"type": "section", "text": plain(title, SECTION_LIMIT)},
    ]
    for start in range(0, len(facts), FACTS_PER_SECTION):
        fields: list[dict[str, Any]] = []
        for name, value in facts[start:start + FACTS_PER_SECTION]:
            # An account name is ours, not the logs': escaped, but its dots are not defanged.
            text = plain(value, FIELD_LIMIT) if name != ASSIGNEE[language] else \
                {"type": "plain_text", "text": escape(value)[:FIELD_LIMIT], "emoji": False}
            fields += [label(name), text]
        blocks.append({"type": "section", "fields": fields})
    if public_url:  # our own address and a quoted id: the one link in the message
        link = escape(incident_url(public_url, incident.id))
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{link}|{OPEN_PAGE[language]}>", "verbatim": True}]})
    buttons = incident_buttons(incident, public_url, language)
    if buttons is not None:
        blocks.append(buttons)
    return untrusted(f"{headline} {incident.id}: {title} ({severity})", SECTION_LIMIT), blocks


def reply_message(text: str, *, trusted_mrkdwn: bool = False) -> tuple[str, list[dict]]:
    """A message in an incident's thread. ``text`` is sent as plain_text and must be inert already (``untrusted``
    applied to log-derived parts, ``escape`` to the rest), unless it is our own mrkdwn (escalation: mentions of the
    on-call person we chose)."""
    text = _PARTIAL_ENTITY.sub("", text[:SECTION_LIMIT]) or "—"
    if trusted_mrkdwn:
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]
    return text, [{"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}]
