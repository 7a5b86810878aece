"""Parsers turn one log line (or record) into the format-specific fields of an event.

Adding a format is adding one module here and one line to ``PARSERS``. JSON formats described by a YAML
mapping (``collectors/mappings/*.yaml``, or ``collection.json_mappings`` in the configuration) need no code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from canhgac.collectors.parsers.base import Parser, ParserOptions
from canhgac.collectors.parsers.combined import CombinedLogParser
from canhgac.collectors.parsers.fortigate import FortigateParser
from canhgac.collectors.parsers.iis import IisParser
from canhgac.collectors.parsers.jsonlines import JsonLinesParser, builtin_mappings
from canhgac.collectors.parsers.modsecurity import ModSecurityParser
from canhgac.collectors.parsers.syslog import SyslogParser
from canhgac.core.errors import UnknownFormat

PARSERS: dict[str, Callable[[ParserOptions], Parser]] = {
    "nginx": lambda o: CombinedLogParser("nginx", o),
    "apache": lambda o: CombinedLogParser("apache", o),
    "combined": lambda o: CombinedLogParser("nginx", o),
    "iis": IisParser,
    "syslog": lambda o: SyslogParser("syslog", "system.syslog", o),
    "sshd": lambda o: SyslogParser("sshd", "system.auth", o),
    "auth": lambda o: SyslogParser("auth", "system.auth", o),
    "netfilter": lambda o: SyslogParser("netfilter", "system.syslog", o),
    "fortigate": FortigateParser,
    "modsecurity": ModSecurityParser,
}


def known_formats(mappings: Mapping[str, Path] | None = None) -> list[str]:
    return sorted({*PARSERS, *builtin_mappings(), *(mappings or {})})


def get_parser(name: str, options: ParserOptions | None = None, *,
               mappings: Mapping[str, Path] | None = None) -> Parser:
    """The parser for format ``name``: a built-in one, a shipped JSON mapping, or one named in ``mappings``."""
    options = options or ParserOptions()
    factory = PARSERS.get(name)
    if factory is not None:
        return factory(options)
    mapping = (mappings or {}).get(name) or builtin_mappings().get(name)
    if mapping is not None:
        return JsonLinesParser.from_file(mapping, options, name=name)
    raise UnknownFormat(f"unknown log format {name!r}; known formats: {', '.join(known_formats(mappings))}")


__all__ = ["PARSERS", "Parser", "ParserOptions", "get_parser", "known_formats"]
