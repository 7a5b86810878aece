"""Regular expressions that no input can make slow.

Rule regexes and wildcard globs run on RE2, whose matching time is linear in the input. A pattern using a
construct RE2 lacks (backreferences, lookaround) falls back to Python's ``re`` and says why, so that
``rules lint`` can name the rule. Either way only the first ``MAX_EVALUATED_CHARS`` of a value are searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import re2
from canhgac.core.limits import MAX_EVALUATED_CHARS

_INLINE = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    return options


_RE2_OPTIONS = _options()


@dataclass(frozen=True, eq=False)
class LinearPattern:
    """A compiled search pattern. ``python`` is the same pattern in Python's ``re``, for literal analysis."""

    source: str
    flags: int
    python: re.Pattern[str]
    fallback_reason: str | None = None
    _search: Callable[[str], object] = field(repr=False, default=bool)
    _fullmatch: Callable[[str], object] = field(repr=False, default=bool)

    @property
    def engine(self) -> str:
        return "re" if self.fallback_reason else "re2"

    def search(self, text: str) -> bool:
        return self._search(text[:MAX_EVALUATED_CHARS]) is not None

    def fullmatch(self, text: str) -> bool:
        """The whole value (globs need its end); only RE2 patterns, which are linear, should be used so."""
        return self._fullmatch(text) is not None


def compile_linear(source: str, flags: int = 0) -> LinearPattern:
    """Compile for RE2, else for ``re`` with the reason; raises ``re.error`` if neither accepts it."""
    python = re.compile(source, flags)
    inline = "".join(letter for flag, letter in _INLINE if flags & flag)
    try:
        linear = re2.compile(f"(?{inline}){source}" if inline else source, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return LinearPattern(source, flags, python, reason, python.search, python.fullmatch)
    return LinearPattern(source, flags, python, None, linear.search, linear.fullmatch)
