"""The syslog envelope: what a message's header says (priority, time, host, program) and its body.

Headers understood: RFC 3164 (``Dec  2 05:20:43 host prog[pid]: msg``), RFC 5424, the ISO-timestamped form
rsyslog writes and forwards (``RSYSLOG_ForwardFormat``), a bare ``<PRI>`` (Python ``SysLogHandler``), and no
header at all. A relay that read a log file (rsyslog ``imfile``) puts the file's line, with its own header,
inside its message: that inner line is unwrapped, and its time, host and program win over the relay's
(see docs/decisions/0043-syslog-body-routing.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from canhgac.collectors.parsers.times import Times
from canhgac.core.errors import ParseError
from canhgac.core.model import parse_utc

_PRI = r"(?:<(\d{1,3})>)?"
_TAG = r"(?:([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?)?"
_BSD_TIME = r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"
BSD = re.compile(_PRI + _BSD_TIME + r" (?:(\S*[^\s:\]]) )?" + _TAG + r"(.*)", re.DOTALL)
ISO = re.compile(_PRI + r"(\d{4}-\d\d-\d\dT\S+) (\S+) " + _TAG + r"(.*)", re.DOTALL)
_SD_ELEMENT = r'\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\]'
RFC5424 = re.compile(_PRI + r"(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:" + _SD_ELEMENT + r")+)(?: (.*))?",
                     re.DOTALL)
_SD_PARTS = re.compile(r'\[([^\s\]]+)((?:\s+[^=\s\]]+="(?:[^"\\]|\\.)*")*)\s*\]')
_SD_PARAM = re.compile(r'([^=\s\]]+)="((?:[^"\\]|\\.)*)"')
_PRI_ONLY = re.compile(r"<(\d{1,3})>")
#: after a bare ``<PRI>``: ``ident: `` or ``prog[pid]: `` (a letter first: ``10.0.0.1 - -``, ``fe80::1`` are not)
_BARE_TAG = re.compile(r"([A-Za-z][\w.\-/]*)(?:\[(\d+)\])?: (.*)", re.DOTALL)
#: an inner line must have a program, as every line of a syslog file has: a time alone is not a header
_INNER_BSD = re.compile(_BSD_TIME + r" (?:(\S*[^\s:\]]) )?([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?(.*)", re.DOTALL)
_MONTH_INITIALS = frozenset("JFMASOND")
_LOOSE_TAG = re.compile(r"[A-Za-z][\w.\-/]*")
_INNER_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\S+) (\S+) ([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?(.*)", re.DOTALL)


@dataclass(slots=True)
class Envelope:
    """A message split in two. ``fields`` hold what the header says (``@timestamp`` only when it has a time);
    ``tails`` are the readings of the body to try, the most specific first (after the tag, after the host…)."""

    fields: dict[str, Any]
    program: str
    message: str
    line: str = ""  # the text the wider readings are cut from
    starts: tuple[int, ...] = ()  # where in ``line`` each wider reading starts
    dated: bool = True  # the header had a time
    bare: bool = False  # neither ``<PRI>`` nor a header: only a body format can claim it
    reference: str | None = None  # the header's full date, for the year of an inner RFC 3164 time
    loose: str = ""  # a tag-like first word without its colon (rsyslog imfile ``Tag="nginx"``)
    #: an RFC 5424 APP-NAME that may be the start of the line: syslog-ng cuts a line it cannot parse at the
    #: first space or colon (``203.0.113.9`` + ``- - [02/Dec…``, ``2001`` + ``db8::5 - - […``)
    glued: str = ""

    @property
    def tails(self) -> tuple[str, ...]:
        texts = [self.message, *(self.line[start:] for start in self.starts)]
        if self.glued:
            texts += [f"{self.glued} {self.message}", f"{self.glued}:{self.message}"]
        return tuple(dict.fromkeys(text.lstrip(" ") for text in texts if text.strip()))


def split_envelope(line: str, times: Times) -> Envelope:
    """The envelope of ``line``; raises ``ValueError``/``ParseError`` for a time or priority that is wrong."""
    bsd = BSD.match(line)
    if bsd is not None:
        pri, when, host, program, pid, message = bsd.groups()
        after_time = bsd.end(2) + 1
        starts = (bsd.end(3) + 1, after_time) if host else (after_time,)
        envelope = _made(pri, times.syslog(when), host, program, pid, message, line, starts)
        return _unwrapped(_loosely_tagged(envelope, bsd.start(6)) if program is None else envelope, times)
    iso = ISO.match(line)
    if iso is not None:
        pri, when, host, program, pid, message = iso.groups()
        envelope = _made(pri, times.iso(when), host, program, pid, message, line, (iso.end(3) + 1,))
        envelope.reference = envelope.fields["@timestamp"]
        return _unwrapped(_loosely_tagged(envelope, iso.start(6)) if program is None else envelope, times)
    modern = RFC5424.match(line)
    if modern is not None:
        return _unwrapped(_rfc5424(modern, times), times)
    pri_only = _PRI_ONLY.match(line)
    if pri_only is None:
        return Envelope({}, "", line, dated=False, bare=True)
    body = line[pri_only.end():]
    fields: dict[str, Any] = {}
    _priority(int(pri_only.group(1)), fields)
    tag = _BARE_TAG.match(body)
    if tag is None:
        return _unwrapped(Envelope(fields, "", body, dated=False), times)
    program, pid, message = tag.groups()
    _process(program, pid, fields)
    return _unwrapped(Envelope(fields, program, message, body, (0,), dated=False), times)


def _made(pri: str | None, timestamp: str, host: str | None, program: str | None, pid: str | None, message: str,
          line: str, starts: tuple[int, ...]) -> Envelope:
    fields: dict[str, Any] = {"@timestamp": timestamp}
    if pri is not None:
        _priority(int(pri), fields)
    if host:
        fields["host.hostname"] = host
    if program:
        _process(program, pid, fields)
    return Envelope(fields, program or "", message, line, starts)


def _loosely_tagged(envelope: Envelope, message_start: int) -> Envelope:
    """No ``tag:`` but a first word that may be one: the reading after it is worth a try."""
    word, space, _rest = envelope.message.partition(" ")
    if space and _LOOSE_TAG.fullmatch(word):
        envelope.loose = word
        envelope.starts = (message_start + len(word) + 1, *envelope.starts)
    return envelope


def _rfc5424(modern: re.Match[str], times: Times) -> Envelope:
    pri, version, when, host, program, pid, msgid, data, message = modern.groups()
    fields: dict[str, Any] = {"log.syslog.version": int(version)}
    if when != "-":
        fields["@timestamp"] = times.iso(when)
    if pri is not None:
        _priority(int(pri), fields)
    if host != "-":
        fields["host.hostname"] = host
    _process(_nil(program), _nil(pid), fields)
    if msgid != "-":
        fields["log.syslog.msgid"] = msgid
    if data != "-":
        _structured_data(data, fields)
    message = (message or "").removeprefix("\ufeff")
    return Envelope(fields, _nil(program) or "", message, dated=when != "-", reference=fields.get("@timestamp"),
                    glued=_nil(program) or "")


def _unwrapped(envelope: Envelope, times: Times) -> Envelope:
    """A relay's message that holds a whole syslog line: the line's own header wins, the relay is kept aside."""
    body = envelope.message
    if body[:1] == " ":
        body = body.lstrip(" ")
    relay_tag = envelope.program
    if envelope.loose and body.startswith(envelope.loose + " "):
        relay_tag, body = envelope.loose, body[len(envelope.loose) + 1:]
    # cheap first: a month name (``Dec  2``) or a year (``2026-``) opens an inner line
    if not ((body[3:4] == " " and body[:1] in _MONTH_INITIALS) or (body[4:5] == "-" and body[:1].isdigit())):
        return envelope
    inner = _INNER_BSD.match(body)
    if inner is not None:
        when, host, program, pid, message = inner.groups()
        reference = envelope.reference or envelope.fields.get("@timestamp")
        # An RFC 3164 time has no year: the relay's own full date says it, else the year of receipt.
        timestamp = times.syslog(when, parse_utc(reference)) if reference else times.syslog(when)
    else:
        inner = _INNER_ISO.match(body)
        if inner is None:
            return envelope
        when, host, program, pid, message = inner.groups()
        timestamp = times.iso(when)
    fields = {key: value for key, value in envelope.fields.items()
              if key not in ("host.hostname", "process.name", "process.pid")}
    if "host.hostname" in envelope.fields:
        fields["log.syslog.hostname"] = envelope.fields["host.hostname"]
    if relay_tag:
        fields["log.syslog.appname"] = relay_tag
    fields["@timestamp"] = timestamp
    if host:
        fields["host.hostname"] = host
    _process(program, pid, fields)
    return Envelope(fields, program, message)


def _process(program: str | None, pid: str | None, fields: dict[str, Any]) -> None:
    if program:
        fields["process.name"] = program
    if pid and pid.isdigit():
        fields["process.pid"] = int(pid)


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _priority(pri: int, fields: dict[str, Any]) -> None:
    if pri > 191:
        raise ParseError(f"syslog priority {pri} is out of range (0–191)")
    fields["log.syslog.priority"] = pri
    fields["log.syslog.facility.code"] = pri >> 3
    fields["log.syslog.severity.code"] = pri & 7


def _structured_data(data: str, fields: dict[str, Any]) -> None:
    for element, params in _SD_PARTS.findall(data):
        for name, value in _SD_PARAM.findall(params):
            fields[f"log.syslog.structured_data.{element}.{name}"] = re.sub(r'\\([\\"\]])', r"\1", value)
