"""Parsers turn one log line into the format-specific fields of an event.

Adding a format is adding one module here and one line to ``PARSERS``.
"""

from __future__ import annotations

from collections.abc import Callable

from canhgac.errors import UnknownFormat
from collectors.parsers.base import Parser
from collectors.parsers.combined import CombinedLogParser
from collectors.parsers.sshd import SshdSyslogParser

PARSERS: dict[str, Callable[[], Parser]] = {
    "nginx": lambda: CombinedLogParser("nginx"),
    "apache": lambda: CombinedLogParser("apache"),
    "combined": lambda: CombinedLogParser("nginx"),
    "sshd": SshdSyslogParser,
}


def get_parser(name: str) -> Parser:
    try:
        return PARSERS[name]()
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise UnknownFormat(f"unknown log format {name!r}; known formats: {known}") from None


__all__ = ["PARSERS", "Parser", "get_parser"]
