"""Syslog messages: RFC 3164 (BSD, as in ``/var/log/auth.log``), RFC 5424, and the ISO-timestamped form
rsyslog writes to files; with or without the ``<PRI>`` of the wire format, or with nothing but it.

The body is then read by what it is (see docs/decisions/0043-syslog-body-routing.md): by the source's
configured ``format`` when it has one (``format: nginx`` on a listener reads the body, not the frame), else
by the program: web access lines (nginx, apache2, httpd, or a body that is plainly one), OpenSSH/PAM/sudo
(``auth``), netfilter kernel lines, FortiGate key=value logs. A body none of them reads is a ``system.syslog``
event with its ``message``.
"""

from __future__ import annotations

from typing import Any

from canhgac.collectors.parsers.auth import AUTH_PROGRAMS, auth_fields
from canhgac.collectors.parsers.base import Parser, ParserOptions
from canhgac.collectors.parsers.envelope import BSD, ISO, RFC5424, Envelope, split_envelope
from canhgac.collectors.parsers.fortigate import fortigate_fields, is_fortigate
from canhgac.collectors.parsers.netfilter import is_netfilter, netfilter_fields
from canhgac.collectors.parsers.routing import BodyRouter
from canhgac.collectors.parsers.times import Times
from canhgac.core.errors import ParseError
from canhgac.core.model import to_utc_iso, utcnow

__all__ = ["BSD", "ISO", "RFC5424", "SyslogParser"]
#: OpenSSH 9.8+ logs its sessions as ``sshd-session`` (and ``sshd-auth``): the same messages as ``sshd``
_AUTH_ALIASES = {"sshd-session": "sshd", "sshd-auth": "sshd"}
#: the tag on an event whose body the configured format could not read (it is kept as plain syslog)
UNREAD_BODY_TAG = "unparsed_body"


class SyslogParser:
    """``dataset`` names the events that no program-specific reading claims (``system.auth`` for auth logs).
    ``body``: the parser of the configured format, for what follows the header."""

    def __init__(self, fmt: str = "syslog", dataset: str = "system.syslog",
                 options: ParserOptions | None = None, body: Parser | None = None) -> None:
        self.format = body.format if body is not None else fmt
        self.dataset = dataset
        self.options = options or ParserOptions()
        self.times = Times(self.options.times_zone)
        self.body = body
        self.router = BodyRouter(self.options)
        self.static_fields: dict[str, Any] = {"event.kind": "event", "event.module": "system",
                                              "event.dataset": dataset}

    def carrying(self, body: Parser) -> SyslogParser:
        """This envelope reader with ``body`` reading what follows each header."""
        return SyslogParser(self.format, self.dataset, self.options, body)

    def parse(self, line: str) -> dict[str, Any] | None:
        try:
            return self._parse(line)
        except ValueError as exc:  # a time that does not exist, a priority out of range
            raise ParseError(str(exc)) from None

    def _parse(self, line: str) -> dict[str, Any] | None:
        envelope = split_envelope(line, self.times)
        tags: list[str] | None = None
        if self.body is not None:
            read, fields = self._configured(envelope)
            if read:
                return fields
            tags = [UNREAD_BODY_TAG]
        # A file read as auth logs (``--source sshd``) that holds bare access lines is the wrong --source: fail
        # so the hint names the format, rather than quietly reading it as something else.
        guess = not (envelope.bare and self.dataset == "system.auth")
        web = self.router.read(envelope) if guess else None
        if web is not None:
            web_fields, text = web
            if text != envelope.message:  # what looked like a tag was the line's own first word
                envelope.fields.pop("process.name", None)
                envelope.fields.pop("process.pid", None)
            return {**envelope.fields, **web_fields}
        if envelope.bare or not envelope.dated:
            if is_fortigate(envelope.message):  # FortiGate sends ``<189>date=… time=…``, with no header
                return self._fortigate(envelope)
            if envelope.bare:
                raise ParseError("not a syslog line (RFC 3164 'Mon DD HH:MM:SS host tag: msg' or RFC 5424)")
        fields = envelope.fields
        if "@timestamp" not in fields:  # a sender without a clock: the time of receipt is the best there is
            fields["@timestamp"] = to_utc_iso(utcnow())
        fields["message"] = envelope.message
        self._content(envelope.program, envelope.message, fields)
        if tags is not None:
            fields["tags"] = [*fields.get("tags", ()), *tags]
        return fields

    def _configured(self, envelope: Envelope) -> tuple[bool, dict[str, Any] | None]:
        """Whether the configured format reads the body, and its fields (None: a directive of that format)."""
        assert self.body is not None
        for text in envelope.tails:
            try:
                fields = self.body.parse(text)
            except ParseError:
                continue
            if fields is None:
                return True, None
            return True, {**envelope.fields, **self.body.static_fields, **fields}
        return False, None

    def _content(self, program: str, message: str, fields: dict[str, Any]) -> None:
        program = _AUTH_ALIASES.get(program, program)
        if program in AUTH_PROGRAMS or message.startswith("pam_"):
            fields["event.dataset"] = "system.auth"
            auth_fields(program, message, fields)
        elif program == "kernel" and is_netfilter(message):
            netfilter_fields(message, fields)
        elif is_fortigate(message):
            fortigate_fields(message, fields, self.times)

    def _fortigate(self, envelope: Envelope) -> dict[str, Any]:
        fields = {key: value for key, value in envelope.fields.items() if key.startswith("log.syslog.")}
        fortigate_fields(envelope.message if envelope.bare else envelope.tails[-1], fields, self.times)
        return fields
