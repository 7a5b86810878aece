"""What OpenSSH, PAM, sudo and su say in the auth log, as ECS authentication and session fields."""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.fields import is_ip

SSH_LOGIN = re.compile(
    r"(Failed|Accepted) (password|publickey|keyboard-interactive/pam|keyboard-interactive|hostbased|none|gssapi-\S+)"
    r" for (invalid user )?(.*?) from (\S+) port (\d+)")
SSH_INVALID_USER = re.compile(r"Invalid user (.*?) from (\S+)(?: port (\d+))?")
SSH_TOO_MANY = re.compile(r"(?:error: )?maximum authentication attempts exceeded for (invalid user )?(.*?) from (\S+) "
                          r"port (\d+)")
PAM = re.compile(r"pam_unix\(([^:)]+):(auth|session|account|password)\): (.*)")
PAM_FAILURE = re.compile(r"authentication failure;.*?(?:rhost=(\S*))?\s+(?:user=(\S+))?\s*$")
PAM_SESSION = re.compile(r"session (opened|closed) for user ([^\s(]+)")
SUDO = re.compile(r"\s*(\S+) : (?:(\d+) incorrect password attempts? ; )?(?:.*?; )?USER=(\S+) ; COMMAND=(.*)")
SU = re.compile(r"(FAILED SU|Successful su|\+|-)? ?(?:\(to (\S+)\) )?(\S+) on (\S+)")

AUTHENTICATION = {"event.category": ["authentication"], "event.type": ["start"]}
AUTH_PROGRAMS = frozenset({"sshd", "sudo", "su", "login", "passwd", "systemd-logind", "polkitd", "unix_chkpwd"})


def auth_fields(program: str, message: str, fields: dict[str, Any]) -> None:
    """Add what is known about the authentication attempt in ``message`` (from ``program``) to ``fields``."""
    if program == "sshd":
        if _ssh(message, fields):
            return
    elif program == "sudo":
        _sudo(message, fields)
        return
    elif program == "su" and not message.startswith("pam_"):
        _su(message, fields)
        return
    if message.startswith("pam_unix("):
        _pam(message, fields)


def _address(address: str, fields: dict[str, Any]) -> None:
    if address:
        fields["source.ip" if is_ip(address) else "source.address"] = address


def _ssh(message: str, fields: dict[str, Any]) -> bool:
    login = SSH_LOGIN.match(message)
    if login is not None:
        verdict, method, invalid, user, address, port = login.groups()
        fields.update(AUTHENTICATION)
        fields.update({"event.action": "ssh_login", "user.name": user, "source.port": int(port),
                       "event.outcome": "success" if verdict == "Accepted" else "failure",
                       "labels.ssh_method": method})
        if invalid:
            fields["labels.ssh_invalid_user"] = "true"
        _address(address, fields)
        return True
    invalid_user = SSH_INVALID_USER.match(message)
    if invalid_user is not None:
        user, address, port = invalid_user.groups()
        fields.update(AUTHENTICATION)
        fields.update({"event.action": "ssh_invalid_user", "user.name": user, "event.outcome": "failure"})
        if port:
            fields["source.port"] = int(port)
        _address(address, fields)
        return True
    too_many = SSH_TOO_MANY.match(message)
    if too_many is not None:
        invalid, user, address, port = too_many.groups()
        fields.update(AUTHENTICATION)
        fields.update({"event.action": "ssh_max_auth_attempts", "user.name": user, "event.outcome": "failure",
                       "source.port": int(port)})
        if invalid:
            fields["labels.ssh_invalid_user"] = "true"
        _address(address, fields)
        return True
    return False


def _pam(message: str, fields: dict[str, Any]) -> None:
    pam = PAM.match(message)
    if pam is None:
        return
    service, kind, rest = pam.groups()
    fields["labels.pam_service"] = service
    if kind == "auth" and rest.startswith("authentication failure"):
        failure = PAM_FAILURE.match(rest)
        fields.update(AUTHENTICATION)
        fields.update({"event.action": "pam_auth_failure", "event.outcome": "failure"})
        if failure is not None:
            address, user = failure.groups()
            if user:
                fields["user.name"] = user
            if address:
                _address(address, fields)
        return
    session = PAM_SESSION.match(rest)
    if kind == "session" and session is not None:
        verb, user = session.groups()
        fields.update({"event.category": ["session"], "event.type": ["start" if verb == "opened" else "end"],
                       "event.action": f"session_{verb}", "user.name": user, "event.outcome": "success"})


def _sudo(message: str, fields: dict[str, Any]) -> None:
    sudo = SUDO.match(message)
    if sudo is None:
        return
    user, failures, target, command = sudo.groups()
    fields.update({"event.category": ["process"], "event.type": ["start"], "event.action": "sudo",
                   "user.name": user, "user.effective.name": target, "process.command_line": command,
                   "event.outcome": "failure" if failures else "success"})


def _su(message: str, fields: dict[str, Any]) -> None:
    su = SU.match(message)
    if su is None:
        return
    verdict, target, user, _terminal = su.groups()
    fields.update(AUTHENTICATION)
    fields.update({"event.action": "su", "user.name": user,
                   "event.outcome": "failure" if verdict in ("FAILED SU", "-") else "success"})
    if target:
        fields["user.effective.name"] = target
