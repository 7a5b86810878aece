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
from canhgac.core.timeutil import local_display
from canhgac.incidents.service import IncidentChange

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
    incident = change.incident
    title = incident.title_en if language == "en" and incident.title_en else incident.title
    headline = term("new_incident" if change.created else "severity_raised", language)
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
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{headline} {incident.id}", HEADER_LIMIT)},
        {"type": "section", "text": plain(title, SECTION_LIMIT)},
    ]
    for start in range(0, len(facts), FACTS_PER_SECTION):
        fields: list[dict[str, Any]] = []
        for name, value in facts[start:start + FACTS_PER_SECTION]:
            fields += [label(name), plain(value, FIELD_LIMIT)]
        blocks.append({"type": "section", "fields": fields})
    return untrusted(f"{headline} {incident.id}: {title} ({severity})", SECTION_LIMIT), blocks
