"""OpenSSH messages in a BSD-syslog auth log (``/var/log/auth.log``, ``/var/log/secure``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from canhgac.errors import ParseError
from canhgac.model import to_utc_iso
from canhgac.timeutil import syslog_to_utc_iso
from collectors.parsers.fields import is_ip

HEADER = re.compile(r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s:\[]+)(?:\[(\d+)\])?: (.*)")
LOGIN = re.compile(
    r"(Failed|Accepted) (password|publickey|keyboard-interactive/pam|none) for (invalid user )?(.*?) "
    r"from (\S+) port (\d+)")
INVALID_USER = re.compile(r"Invalid user (.*?) from (\S+)(?: port (\d+))?")


class SshdSyslogParser:
    format = "sshd"

    def __init__(self) -> None:
        self.static_fields: dict[str, Any] = {"event.kind": "event", "event.module": "system",
                                              "event.dataset": "system.auth"}

    def parse(self, line: str) -> dict[str, Any]:
        header = HEADER.match(line)
        if header is None:
            raise ParseError("not a syslog line (expected 'Mon DD HH:MM:SS host program[pid]: message')")
        when, host, program, pid, message = header.groups()
        now = datetime.now(UTC)
        try:
            timestamp = syslog_to_utc_iso(when, year=now.year)
            if timestamp > to_utc_iso(now + timedelta(days=2)):  # December's lines read in January
                timestamp = syslog_to_utc_iso(when, year=now.year - 1)
        except ValueError as exc:
            raise ParseError(str(exc)) from None
        fields: dict[str, Any] = {"@timestamp": timestamp, "host.hostname": host, "process.name": program,
                                  "message": message}
        if pid is not None:
            fields["process.pid"] = int(pid)
        if program == "sshd":
            _ssh_fields(message, fields)
        return fields


def _ssh_fields(message: str, fields: dict[str, Any]) -> None:
    login = LOGIN.match(message)
    if login is not None:
        verdict, method, invalid, user, address, port = login.groups()
        fields.update({"event.category": ["authentication"], "event.type": ["start"],
                       "event.action": "ssh_login", "user.name": user, "source.port": int(port),
                       "event.outcome": "success" if verdict == "Accepted" else "failure",
                       "labels.ssh_method": method})
        if invalid:
            fields["labels.ssh_invalid_user"] = "true"
        _address(address, fields)
        return
    invalid_user = INVALID_USER.match(message)
    if invalid_user is not None:
        user, address, port = invalid_user.groups()
        fields.update({"event.category": ["authentication"], "event.type": ["start"],
                       "event.action": "ssh_invalid_user", "user.name": user, "event.outcome": "failure"})
        if port:
            fields["source.port"] = int(port)
        _address(address, fields)


def _address(address: str, fields: dict[str, Any]) -> None:
    fields["source.ip" if is_ip(address) else "source.address"] = address
