"""The words of a line as Elasticsearch's standard analyzer makes them, for SQLite's free-text index.

The standard tokenizer follows Unicode word boundaries (UAX #29): letters and digits form words, ``_``
joins, a ``.`` or ``'`` between two letters or between two digits stays inside the word (``203.0.113.5``,
``example.com``), ``:`` between letters and ``,``/``;`` between digits too; combining marks belong to the
letter before them (Vietnamese typed as decomposed "Unicode tổ hợp" stays one word); each Chinese or Japanese
ideograph and each hiragana is a word of its own; words are lowercased, letter by letter, and cut at 255
characters. The rules met in log lines are reproduced here (``event_text.py`` indexes them); the storage
contract checks both stores return the same events for the same text.
"""

from __future__ import annotations

import re

#: Combining marks (Latin, Greek, Cyrillic, Hebrew and the generic combining blocks).
_MARK = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LETTER = r"[^\W\d_]"
_RUN = rf"\w[\w{_MARK}]*"
_WORD = re.compile(rf"{_RUN}(?:(?:(?<={_LETTER}|[{_MARK}])[.:'’](?={_LETTER})|(?<=\d)[.,;'’](?=\d)){_RUN})*")
_ASCII_WORD = re.compile(r"[a-z0-9_]+(?:(?:(?<=[a-z])[.:'](?=[a-z])|(?<=[0-9])[.,;'](?=[0-9]))[a-z0-9_]+)*")
_SINGLE = re.compile("[\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
MAX_WORD = 255


def words(text: str) -> list[str]:
    # Lowercasing the whole line first is the same as lowercasing each word (letters stay letters; the one
    # letter that lowercases to two characters, İ, gains a combining mark, which stays in its word) and
    # several times faster. Most log lines are ASCII: a simpler expression does for them.
    if text.isascii():
        found = _ASCII_WORD.findall(text.lower())
    else:
        lowered = text.lower()
        if _SINGLE.search(lowered):
            lowered = _SINGLE.sub(r" \g<0> ", lowered)
        found = _WORD.findall(lowered)
    if found and max(map(len, found)) > MAX_WORD:
        found = [word[i:i + MAX_WORD] for word in found for i in range(0, len(word), MAX_WORD)]
    return found
