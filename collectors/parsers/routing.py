"""Which parser reads a syslog body that is another log's line: by the program that sent it (nginx, apache2,
httpd → web access), else by what the body looks like (a combined access line relayed without a tag).

Auth (sshd, sudo, su, PAM), netfilter (kernel) and FortiGate bodies are read by ``SyslogParser`` itself,
which is what a plain ``canhgac ingest --source auth`` of the same line does.
"""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.auth import AUTH_PROGRAMS
from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.combined import CombinedLogParser
from canhgac.collectors.parsers.envelope import Envelope
from canhgac.core.errors import ParseError

#: program (syslog tag) → the module of its access log
WEB_PROGRAMS = {"nginx": "nginx", "apache": "apache", "apache2": "apache", "httpd": "apache"}
#: programs whose bodies are never access lines: not worth a look
_NOT_WEB = AUTH_PROGRAMS | {"kernel", "sshd-session", "sshd-auth", "CRON", "cron", "systemd"}
_WORD = re.compile(r"[-_./]")
#: the cheap part of a combined line (``vhost:port`` first or not), before the full match
_LOOKS_LIKE_ACCESS = re.compile(r'(?:\S+ )?\S+ \S+ \S+ \[\d\d/[A-Z][a-z]{2}/\d{4}:[^\]]*\] "')


def web_module(program: str) -> str | None:
    """``nginx``, ``nginx-access``, ``apache2_access`` → the module; other programs → None."""
    if not program:
        return None
    lowered = program.lower()
    return WEB_PROGRAMS.get(lowered) or WEB_PROGRAMS.get(_WORD.split(lowered, maxsplit=1)[0])


class BodyRouter:
    """Web access parsers for syslog bodies, made on first use, in the zone of the syslog parser."""

    def __init__(self, options: ParserOptions) -> None:
        self.options = options
        self._web: dict[str, CombinedLogParser] = {}

    def web(self, module: str) -> CombinedLogParser:
        parser = self._web.get(module)
        if parser is None:
            parser = self._web[module] = CombinedLogParser(module, self.options)
        return parser

    def read(self, envelope: Envelope) -> tuple[dict[str, Any], str] | None:
        """The access-log fields (its static ones included) of the first reading of the body that is an
        access line, with that reading, or None. The tag chooses nginx or Apache; the body must be an access
        line either way (nginx sends its error log under the same tag)."""
        program = envelope.program
        if program in _NOT_WEB:
            return None
        module = web_module(program or envelope.loose)
        tails = envelope.tails
        parser = self.web(module or "nginx")
        # An unknown tag may be no tag at all (``2001:db8::5 - - [`` reads as the tag ``2001``): widest first.
        for text in tails if module is not None else reversed(tails):
            if _LOOKS_LIKE_ACCESS.match(text) is None:
                continue
            try:
                fields = parser.parse(text)
            except ParseError:
                continue
            return {**parser.static_fields, **fields}, text
        return None
