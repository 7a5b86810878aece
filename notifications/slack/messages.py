"""Block Kit messages for incidents. Log-derived text is attacker-controlled: it is escaped, so a
``<!channel>`` in a URL cannot ping everyone."""

from __future__ import annotations

from typing import Any

from canhgac.core.directory import Directory
from canhgac.core.i18n import term
from canhgac.core.timeutil import local_display
from canhgac.incidents.service import IncidentChange

SECTION_LIMIT = 3000
SEVERITY_MARK = {"low": "🔵", "medium": "🟡", "high": "🟠", "critical": "🔴"}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    text = f"{headline} {incident.id}: {title} ({severity})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{headline} {incident.id}"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(title)[:SECTION_LIMIT]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{escape(value)}"[:2000]}
                                       for label, value in facts]},
    ]
    return escape(text)[:SECTION_LIMIT], blocks
