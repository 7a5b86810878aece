"""Free-text matching on SQLite with the same words Elasticsearch's standard analyzer makes.

The standard tokenizer follows Unicode word boundaries (UAX #29): letters and digits form words, ``_``
joins, a ``.`` or ``'`` between two letters or between two digits stays inside the word (``203.0.113.5``,
``example.com``), ``:`` between letters and ``,``/``;`` between digits too; words are lowercased and cut at
255 characters. The rules used in log lines are reproduced here; the storage contract test checks both
stores return the same events for the same text.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LETTER = r"[^\W\d_]"
_WORD = re.compile(
    rf"\w+(?:(?:(?<={_LETTER})[.:'’](?={_LETTER})|(?<=\d)[.,;'’](?=\d))\w+)*"
)
MAX_WORD = 255


def words(text: str) -> list[str]:
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group().lower()
        out += [word[i:i + MAX_WORD] for i in range(0, len(word), MAX_WORD)]
    return out


@lru_cache(maxsize=256)
def _wanted(query: str) -> frozenset[str]:
    return frozenset(words(query))


def words_match(original: str | None, query: str) -> int:
    """1 when every word of ``query`` is a word of ``original`` (SQLite functions return integers)."""
    wanted = _wanted(query)
    if not wanted or original is None:
        return 0
    lowered = original.lower()
    if any(word not in lowered for word in wanted):  # cheap rejection before tokenising the line
        return 0
    return int(wanted <= set(words(original)))
