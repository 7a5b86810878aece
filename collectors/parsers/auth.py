"""What OpenSSH, PAM, sudo and su say in the auth log, as ECS authentication and session fields."""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.fields import is_ip

# Patterns are anchored and use greedy runs before a fixed tail, so each is linear in the message; the user
# name is attacker-chosen and may contain " from 1.2.3.4 port 22", so the address is the *last* such tail.
SSH_LOGIN = re.compile(
    r"(Failed|Accepted) (password|publickey|keyboard-interactive/pam|keyboard-interactive|hostbased|none|gssapi-\S+)"
    r" for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh2)?(?:: .*)?$")
SSH_INVALID_USER = re.compile(r"Invalid user (.*) from (\S+)(?: port (\d+))?$")
SSH_TOO_MANY = re.compile(r"(?:error: )?maximum authentication attempts exceeded for (invalid user )?(.*) from (\S+) "
                          r"port (\d+)(?: ssh2)?(?: \[preauth\])?$")
SSH_PREAUTH_CLOSE = re.compile(r"(?:Connection closed by|Disconnected from) (authenticating|invalid) user (.*) (\S+) "
                               r"port (\d+)(?: \[preauth\])?$")
SSH_NO_IDENTIFICATION = re.compile(r"Did not receive identification string from (\S+)(?: port (\d+))?$")
SSH_BAD_BANNER = re.compile(r"banner exchange: Connection from (\S+) port (\d+): invalid format$")
SSH_PAM_FAILURE = re.compile(r"error: PAM: Authentication failure for (illegal user )?(.*) from (\S+)$")
PAM = re.compile(r"(pam_unix|pam_sss|pam_ldap)\(([^:)]+):(auth|session|account|password)\): (.*)")
PAM_MORE_FAILURES = re.compile(r"PAM (\d+) more authentication failures?; (.*)")
PAM_SESSION = re.compile(r"session (opened|closed) for user ([^\s(]+)")
SUDO = re.compile(r"\s*(\S+) : (?:(\d+) incorrect password attempts? ; )?(?:.*?; )?USER=(\S+) ; COMMAND=(.*)")
SU = re.compile(r"(FAILED SU|Successful su|\+|-)? ?(?:\(to (\S+)\) )?(\S+) on (\S+)")

#: sshd messages that each record one failed attempt to get in: what brute-force and spraying rules count.
SSH_FAILURE_ACTIONS = ("ssh_login", "ssh_max_auth_attempts", "ssh_preauth_disconnect", "ssh_pam_failure",
                       "ssh_no_identification", "ssh_bad_banner", "pam_auth_failure", "pam_more_auth_failures")

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
    if message.startswith(("pam_unix(", "pam_sss(", "pam_ldap(")):
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
        _failure("ssh_max_auth_attempts", user, address, port, fields, invalid=bool(invalid))
        return True
    closed = SSH_PREAUTH_CLOSE.match(message)
    if closed is not None:
        kind, user, address, port = closed.groups()
        _failure("ssh_preauth_disconnect", user, address, port, fields, invalid=kind == "invalid")
        return True
    pam_failure = SSH_PAM_FAILURE.match(message)
    if pam_failure is not None:
        illegal, user, address = pam_failure.groups()
        _failure("ssh_pam_failure", user, address, None, fields, invalid=bool(illegal))
        return True
    for pattern, action in ((SSH_NO_IDENTIFICATION, "ssh_no_identification"), (SSH_BAD_BANNER, "ssh_bad_banner")):
        found = pattern.match(message)
        if found is not None:
            address, port = found.groups()
            _failure(action, None, address, port, fields)
            return True
    more = PAM_MORE_FAILURES.match(message)
    if more is not None:
        count, rest = more.groups()
        _pam_failure(rest, fields)
        fields["event.action"] = "pam_more_auth_failures"
        fields["labels.pam_failures"] = count
        return True
    return False


def _failure(action: str, user: str | None, address: str, port: str | None, fields: dict[str, Any], *,
             invalid: bool = False) -> None:
    fields.update(AUTHENTICATION)
    fields.update({"event.action": action, "event.outcome": "failure"})
    if user:
        fields["user.name"] = user
    if port:
        fields["source.port"] = int(port)
    if invalid:
        fields["labels.ssh_invalid_user"] = "true"
    _address(address, fields)


def _pam_failure(rest: str, fields: dict[str, Any]) -> None:
    """``authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.23  user=root``."""
    fields.update(AUTHENTICATION)
    fields.update({"event.action": "pam_auth_failure", "event.outcome": "failure"})
    pairs = dict(token.partition("=")[::2] for token in rest.split() if "=" in token)
    if pairs.get("user"):
        fields["user.name"] = pairs["user"]
    if pairs.get("rhost"):
        _address(pairs["rhost"], fields)


def _pam(message: str, fields: dict[str, Any]) -> None:
    pam = PAM.match(message)
    if pam is None:
        return
    _module, service, kind, rest = pam.groups()
    fields["labels.pam_service"] = service
    if kind == "auth" and rest.startswith("authentication failure"):
        _pam_failure(rest.removeprefix("authentication failure"), fields)
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
