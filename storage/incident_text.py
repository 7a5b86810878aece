"""Free-text search of incidents: the words both stores keep per incident, and the words of a query.

An incident's words come from its number, titles, entity values (an address, a user), the titles of its
rules, its assignee and system, lowercased and with Vietnamese diacritics folded away (``Dò quét`` → ``do
quet``, ``đ`` → ``d``), split as ``words.py`` splits log lines (an IP address stays one word). A query
matches when every one of its words is the beginning of some word of the incident, on either store: the
words are computed here, in Python, so SQLite (an FTS5 prefix query) and Elasticsearch (``prefix`` queries
on a keyword field) compare exactly the same strings and no user text is ever parsed as query syntax.
"""

from __future__ import annotations

import unicodedata

from canhgac.core.model import Incident
from canhgac.storage.sqlite.words import words

#: At most this many query words are used (a 200-character query has fewer in practice).
MAX_QUERY_WORDS = 16


def fold(text: str) -> str:
    """Lowercase without diacritics: ``Đăng nhập THẤT BẠI`` → ``dang nhap that bai``."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "d").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def incident_words(incident: Incident) -> list[str]:
    """The distinct words an incident can be found by, in first-seen order."""
    parts: list[str] = [incident.id, incident.title, incident.title_en or "", incident.assignee or "",
                        incident.system or "", incident.rule_id, *incident.entities.values()]
    for hit in incident.rules:
        parts += [hit.rule_id, hit.title, hit.title_vi or ""]
    return list(dict.fromkeys(w for part in parts if part for w in words(fold(part))))


def query_words(text: str) -> list[str]:
    """The words a query asks for (each must begin a word of the incident); empty when it has none."""
    return sorted(set(words(fold(text))))[:MAX_QUERY_WORDS]
