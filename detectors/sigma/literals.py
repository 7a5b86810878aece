"""Literal text that a value test needs to find in the event: the raw material of the prefilter.

Everything here is folded (``fold``): lower-cased, plus the few extra case equivalences Python's ``re``
applies under ``IGNORECASE`` (``ſ`` ~ ``s``, ``ı`` ~ ``i``, ...). Folding both the event text and the
literals keeps "the literal occurs" a necessary condition for case-sensitive and case-insensitive tests
alike, so the prefilter never hides a match; it may only let through events that then fail the test.
"""

from __future__ import annotations

import functools
import re
import re._casefix as _casefix  # the equivalence table re itself uses for IGNORECASE
import re._constants as _c
import re._parser as _parser

#: A requirement: the test can only match if at least one of these strings occurs (folded).
Literals = frozenset[str]


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code, extras in _casefix._EXTRA_CASES.items():
        group = {chr(code), *map(chr, extras)}
        canonical = min(group)
        for member in group:
            if member != canonical:
                table[ord(member)] = canonical
    return table


_FOLD = _fold_table()
_FOLDED = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_FOLD)) + "]")


def fold(text: str) -> str:
    lowered = text.lower()
    if lowered.isascii() or _FOLDED.search(lowered) is None:
        return lowered
    return lowered.translate(_FOLD)


#: Characters frequent in ordinary URLs, user agents and log text; any other punctuation is a rare sight.
_COMMON = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 /.-_=&?%+:,;()")
#: Alternatives worth enumerating when a regex spells out a few fixed strings in a row.
MAX_ALTERNATIVES = 256


def literal_score(text: str) -> int:
    """How rarely ``text`` occurs by chance: its length, with rare punctuation counting triple."""
    return len(text) + 2 * sum(1 for char in text if char not in _COMMON)


def score(literals: Literals) -> int:
    """How selective a requirement is: the score of its weakest literal."""
    return min((literal_score(item) for item in literals), default=0)


def best(options: list[Literals]) -> Literals | None:
    """The most selective requirement among alternatives that are each necessary."""
    if not options:
        return None
    return max(options, key=lambda item: (score(item), -len(item)))


@functools.lru_cache(maxsize=8192)  # every detector built over the same rules asks again (hunts, rule tests)
def regex_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Strings one of which every match of ``pattern`` contains, or None if nothing useful is certain."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError, OverflowError):
        return None
    try:
        return _sequence(list(parsed))
    except RecursionError:
        return None


def _sequence(items: list[tuple[object, object]]) -> Literals | None:
    """Consecutive items that spell a few fixed strings are combined (``(db|www)\\.zip``); any other item
    ends the run and may still contribute a requirement of its own."""
    options: list[Literals] = []
    run: set[str] = {""}

    def flush() -> None:
        nonlocal run
        if run != {""}:
            options.append(frozenset(fold(text) for text in run))
        run = {""}

    for op, arg in items:
        if op is _c.AT:  # zero-width (\b, ^, $): the characters around it are still adjacent
            continue
        fixed = _fixed(op, arg)
        if fixed is not None and len(run) * len(fixed) <= MAX_ALTERNATIVES:
            run = {left + right for left in run for right in fixed}
            continue
        flush()
        if fixed is not None:
            run = set(fixed)
            continue
        inner = _item(op, arg)
        if inner is not None:
            options.append(inner)
    flush()
    return best(options)


def _fixed(op: object, arg: object) -> frozenset[str] | None:
    """The exact strings one item matches, when they are few and known (a literal, a small class, a group
    of literal alternatives); None otherwise."""
    if op is _c.LITERAL and isinstance(arg, int):
        return frozenset({chr(arg)})
    if op is _c.IN and isinstance(arg, list) and all(kind is _c.LITERAL for kind, _ in arg) and len(arg) <= 8:
        return frozenset(chr(value) for _, value in arg)  # type: ignore[arg-type]
    if op is _c.SUBPATTERN and isinstance(arg, tuple):
        return _fixed_sequence(list(arg[-1]))
    if op is _c.BRANCH and isinstance(arg, tuple):
        union: set[str] = set()
        for branch in arg[1]:
            found = _fixed_sequence(list(branch))
            if found is None or len(union) + len(found) > MAX_ALTERNATIVES:
                return None
            union |= found
        return frozenset(union)
    return None


def _fixed_sequence(items: list[tuple[object, object]]) -> frozenset[str] | None:
    run: set[str] = {""}
    for op, arg in items:
        if op is _c.AT:
            continue
        fixed = _fixed(op, arg)
        if fixed is None or len(run) * len(fixed) > MAX_ALTERNATIVES:
            return None
        run = {left + right for left in run for right in fixed}
    return frozenset(run)


def _item(op: object, arg: object) -> Literals | None:
    if op is _c.SUBPATTERN and isinstance(arg, tuple):
        return _sequence(list(arg[-1]))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and isinstance(arg, tuple):
        low, _, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if op is _c.ATOMIC_GROUP:
        return _sequence(list(arg))  # type: ignore[call-overload]
    if op is _c.BRANCH and isinstance(arg, tuple):
        union: set[str] = set()
        for branch in arg[1]:
            found = _sequence(list(branch))
            if found is None:
                return None
            union |= found
        return frozenset(union)
    return None
