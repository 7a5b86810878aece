"""nginx and Apache "combined" access logs (and "common", which lacks referrer and user agent)."""

from __future__ import annotations

import re
from typing import Any

from canhgac.errors import ParseError
from canhgac.timeutil import clf_to_utc_iso
from collectors.parsers.fields import is_ip, unescape_nginx
from collectors.parsers.url import decode_path, decode_query

_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
LINE = re.compile(
    r"(\S+) \S+ (\S+) \[([^\]]+)\] " + _QUOTED + r" (\d{3}) (\d+|-)(?: " + _QUOTED + " " + _QUOTED + r")?"
)


class CombinedLogParser:
    def __init__(self, module: str = "nginx") -> None:
        self.format = module
        self.static_fields: dict[str, Any] = {
            "event.kind": "event", "event.category": ["web"], "event.type": ["access"],
            "event.module": module, "event.dataset": f"{module}.access",
        }

    def parse(self, line: str) -> dict[str, Any]:
        match = LINE.match(line)
        if match is None:
            raise ParseError(f"not a {self.format} combined/common access log line")
        client, user, when, request, status, size, referrer, agent = match.groups()
        try:
            timestamp = clf_to_utc_iso(when)
        except ValueError as exc:
            raise ParseError(str(exc)) from None
        code = int(status)
        fields: dict[str, Any] = {
            "@timestamp": timestamp,
            "http.response.status_code": code,
            "event.outcome": "success" if code < 400 else "failure",
        }
        if is_ip(client):
            fields["source.ip"] = client
        else:
            fields["source.address"] = client
        if user != "-":
            fields["user.name"] = decode_path(user)
        if size != "-":
            fields["http.response.body.bytes"] = int(size)
        if referrer is not None and referrer != "-":
            fields["http.request.referrer"] = referrer
        if agent is not None and agent != "-":
            fields["user_agent.original"] = unescape_nginx(agent)
        _request_fields(unescape_nginx(request), fields)
        return fields


def _request_fields(request: str, fields: dict[str, Any]) -> None:
    """``GET /a?b HTTP/1.1`` → method, url and version. A garbled request line (TLS bytes sent to a
    plain-HTTP port, a scanner's junk) is still an event: the raw target is kept."""
    parts = request.split(" ")
    if len(parts) == 3 and parts[2].startswith("HTTP/"):
        method, target, protocol = parts
        fields["http.request.method"] = method
        fields["http.version"] = protocol[5:]
    elif len(parts) >= 2 and parts[0].isalpha() and parts[0].isupper():
        method, target = parts[0], " ".join(parts[1:])
        fields["http.request.method"] = method
    else:
        if request and request != "-":
            fields["url.original"] = request
        return
    fields["url.original"] = target
    path, _, query = target.partition("?")
    if path.startswith(("http://", "https://")):  # absolute form, as proxies and scanners send
        scheme_end = path.index("//") + 2
        host_end = path.find("/", scheme_end)
        fields["url.domain"] = path[scheme_end:host_end if host_end > 0 else None]
        path = path[host_end:] if host_end > 0 else "/"
    fields["url.path"] = decode_path(path)
    if query:
        fields["url.query"] = decode_query(query)
