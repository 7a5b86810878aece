"""When most lines of a file do not parse as the ``--source`` given, which known format they look like."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from canhgac.collectors.file import FileReader
from canhgac.collectors.parsers.base import Parser
from canhgac.core.errors import CanhGacError

SAMPLE_LINES = 200  # read from the start of the file
MOST = 0.5  # "most lines": more than this share of the sample fails
#: Names that are another name's parser under a second name: never offered as the guess.
ALIASES = frozenset({"combined"})
#: Among formats that read the lines equally well, the one people most likely meant comes first (the syslog
#: family reads any syslog line alike).
PREFERRED = ("nginx", "apache", "iis", "sshd", "syslog", "auth", "netfilter", "fortigate", "modsecurity")


def _sample(path: Path, count: int) -> list[str]:
    reader = FileReader(path)
    try:
        lines = [raw.data.decode(errors="replace") for raw in reader.read(count, final=True)]
    finally:
        reader.close()
    return [line for line in lines if line.strip()]


def _parses(parser: Parser, line: str) -> bool:
    try:
        return parser.parse(line) is not None
    except (CanhGacError, ValueError, KeyError, IndexError, TypeError):
        return False


def likely_formats(path: Path, chosen: str, formats: Sequence[str],
                   parser_for: Callable[[str], Parser]) -> tuple[bool, list[str]]:
    """(whether most sampled lines fail as ``chosen``, the formats that read the most of the failed ones —
    best first, at most three; empty when none reads any)."""
    lines = _sample(path, SAMPLE_LINES)
    if not lines:
        return False, []
    mine = parser_for(chosen)
    failed = [line for line in lines if not _parses(mine, line)]
    if len(failed) <= MOST * len(lines):
        return False, []
    scores: dict[str, int] = {}
    for name in formats:
        if name == chosen or name in ALIASES:
            continue
        try:
            parser = parser_for(name)
        except CanhGacError:
            continue
        scores[name] = sum(_parses(parser, line) for line in failed)
    best = max(scores.values(), default=0)
    if best == 0:
        return True, []
    ranked = sorted((name for name in formats if scores.get(name) == best),
                    key=lambda name: (PREFERRED.index(name) if name in PREFERRED else len(PREFERRED), name))
    return True, ranked[:3]
