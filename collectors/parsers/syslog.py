"""Syslog messages: RFC 3164 (BSD, as in ``/var/log/auth.log``), RFC 5424, and the ISO-timestamped form
rsyslog writes to files; with or without the ``<PRI>`` of the wire format. The message is then read by
what sent it: OpenSSH/PAM/sudo (``auth``), netfilter kernel lines, FortiGate key=value logs."""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.auth import AUTH_PROGRAMS, auth_fields
from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fortigate import fortigate_fields, is_fortigate
from canhgac.collectors.parsers.netfilter import is_netfilter, netfilter_fields
from canhgac.collectors.parsers.times import Times
from canhgac.core.errors import ParseError
from canhgac.core.model import to_utc_iso, utcnow

_PRI = r"(?:<(\d{1,3})>)?"
_TAG = r"(?:([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?)?"
BSD = re.compile(_PRI + r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?:(\S*[^\s:\]]) )?" + _TAG + r"(.*)", re.DOTALL)
ISO = re.compile(_PRI + r"(\d{4}-\d\d-\d\dT\S+) (\S+) " + _TAG + r"(.*)", re.DOTALL)
_SD_ELEMENT = r'\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\]'
RFC5424 = re.compile(_PRI + r"(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:" + _SD_ELEMENT + r")+)(?: (.*))?",
                     re.DOTALL)
_SD_PARTS = re.compile(r'\[([^\s\]]+)((?:\s+[^=\s\]]+="(?:[^"\\]|\\.)*")*)\s*\]')
_SD_PARAM = re.compile(r'([^=\s\]]+)="((?:[^"\\]|\\.)*)"')
_PRI_ONLY = re.compile(r"<(\d{1,3})>")


class SyslogParser:
    """``dataset`` names the events that no program-specific reading claims (``system.auth`` for auth logs)."""

    def __init__(self, fmt: str = "syslog", dataset: str = "system.syslog",
                 options: ParserOptions | None = None) -> None:
        self.format = fmt
        self.dataset = dataset
        self.times = Times((options or ParserOptions()).times_zone)
        self.static_fields: dict[str, Any] = {"event.kind": "event", "event.module": "system",
                                              "event.dataset": dataset}

    def parse(self, line: str) -> dict[str, Any]:
        try:
            return self._parse(line)
        except ValueError as exc:  # a time that does not exist, a priority out of range
            raise ParseError(str(exc)) from None

    def _parse(self, line: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        bsd = BSD.match(line)
        if bsd is not None:
            pri, when, host, program, pid, message = bsd.groups()
            fields["@timestamp"] = self.times.syslog(when)
        else:
            iso = ISO.match(line)
            modern = RFC5424.match(line) if iso is None else None
            if iso is not None:
                pri, when, host, program, pid, message = iso.groups()
                fields["@timestamp"] = self.times.iso(when)
            elif modern is not None:
                pri, version, when, host, program, pid, msgid, data, message = modern.groups()
                fields["log.syslog.version"] = int(version)
                # A sender without a clock: the time of receipt is the best there is.
                fields["@timestamp"] = self.times.iso(when) if when != "-" else to_utc_iso(utcnow())
                host, program, pid = _nil(host), _nil(program), _nil(pid)
                if msgid != "-":
                    fields["log.syslog.msgid"] = msgid
                if data != "-":
                    _structured_data(data, fields)
                message = (message or "").removeprefix("\ufeff")
            else:
                pri_only = _PRI_ONLY.match(line)
                body = line[pri_only.end():] if pri_only else line
                if is_fortigate(body):
                    return self._fortigate(pri_only.group(1) if pri_only else None, body)
                raise ParseError("not a syslog line (RFC 3164 'Mon DD HH:MM:SS host tag: msg' or RFC 5424)")
        if pri is not None:
            _priority(int(pri), fields)
        if host:
            fields["host.hostname"] = host
        if program:
            fields["process.name"] = program
        if pid and pid.isdigit():
            fields["process.pid"] = int(pid)
        fields["message"] = message
        self._content(program or "", message, fields)
        return fields

    def _content(self, program: str, message: str, fields: dict[str, Any]) -> None:
        if program in AUTH_PROGRAMS or message.startswith("pam_"):
            fields["event.dataset"] = "system.auth"
            auth_fields(program, message, fields)
        elif program == "kernel" and is_netfilter(message):
            netfilter_fields(message, fields)
        elif is_fortigate(message):
            fortigate_fields(message, fields, self.times)

    def _fortigate(self, pri: str | None, body: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        fortigate_fields(body, fields, self.times)
        if pri is not None:
            _priority(int(pri), fields)
        return fields


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
