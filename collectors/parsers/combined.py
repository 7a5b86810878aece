"""nginx and Apache access logs: "combined", "common", and the usual additions after them.

Variants understood after the user agent, in any order: ``"$http_x_forwarded_for"`` (a quoted address list),
a bare request time (``0.123`` seconds as nginx ``$request_time``, ``1234`` microseconds as Apache ``%D``),
and nginx ``key=value`` timings (``rt=``, ``uct=``, ``uht=``, ``urt=``, ``request_time=``,
``upstream_response_time=``…). Apache ``vhost_combined`` (``host:port`` first) is recognised too.
"""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fields import is_ip, unescape_nginx
from canhgac.collectors.parsers.times import Times
from canhgac.collectors.parsers.url import decode_path, decode_query, split_target
from canhgac.core.errors import ParseError

_QUOTED = r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
_REST = r" \S+ (\S+) \[([^\]]+)\] " + _QUOTED + r" (\d{3}) (\d+|-)(?: " + _QUOTED + " " + _QUOTED + r")?"
LINE = re.compile(r"(\S+)" + _REST)
VHOST_LINE = re.compile(r"([^\s:]+):(\d+) (\S+)" + _REST)
_TAIL = re.compile(r'(?:([A-Za-z_][\w.]*+)=)?("(?:[^"\\]++|\\.)*+"|\S++)')
_ADDRESS_LIST = re.compile(r"[0-9A-Fa-f.:, ]+|unknown(?:, *[0-9A-Fa-f.:]+)*")
MAX_TAIL_ITEMS = 32
_DURATION_KEYS = {"rt": "event.duration", "request_time": "event.duration"}
_UPSTREAM_KEYS = {"urt": "response_time", "upstream_response_time": "response_time",
                  "uct": "connect_time", "upstream_connect_time": "connect_time",
                  "uht": "header_time", "upstream_header_time": "header_time"}


class CombinedLogParser:
    def __init__(self, module: str = "nginx", options: ParserOptions | None = None) -> None:
        self.format = module
        self.times = Times((options or ParserOptions()).times_zone)
        self.static_fields: dict[str, Any] = {
            "event.kind": "event", "event.category": ["web"], "event.type": ["access"],
            "event.module": module, "event.dataset": f"{module}.access",
        }

    def parse(self, line: str) -> dict[str, Any]:
        match = LINE.match(line)
        vhost = None
        if match is None:
            match = VHOST_LINE.match(line)
            if match is None:
                raise ParseError(f"not a {self.format} combined/common access log line")
            vhost, port = match.group(1), match.group(2)
            client, user, when, request, status, size, referrer, agent = match.groups()[2:]
        else:
            client, user, when, request, status, size, referrer, agent = match.groups()
        try:
            timestamp = self.times.clf(when)
        except ValueError as exc:
            raise ParseError(str(exc)) from None
        code = int(status)
        fields: dict[str, Any] = {"@timestamp": timestamp, "http.response.status_code": code,
                                  "event.outcome": "success" if code < 400 else "failure"}
        if is_ip(client):
            fields["source.ip"] = client
        else:
            fields["source.address"] = client
        if user != "-":
            fields["user.name"] = decode_path(unescape_nginx(user))
        if size != "-":
            fields["http.response.body.bytes"] = int(size)
        if referrer is not None and referrer != "-":
            fields["http.request.referrer"] = unescape_nginx(referrer) if "\\x" in referrer else referrer
        if agent is not None and agent != "-":
            fields["user_agent.original"] = unescape_nginx(agent) if "\\x" in agent else agent
        if "\\x" in request:
            request = unescape_nginx(request)
        parts = request.split(" ")
        if len(parts) == 3 and parts[2].startswith("HTTP/"):  # the usual request line, inline for speed
            target = parts[1]
            fields["http.request.method"] = parts[0]
            fields["http.version"] = parts[2][5:]
            fields["url.original"] = target
            path, _, query = target.partition("?")
            if path[:1] == "/":
                fields["url.path"] = decode_path(path) if "%" in path else path
                if query:
                    fields["url.query"] = decode_query(query)
            else:
                split_target(target, fields)
        else:
            _request_fields(request, fields)
        if vhost is not None:
            fields["url.domain"] = vhost
            fields["destination.port"] = int(port)
        end = match.end()
        if end < len(line):
            _tail_fields(line[end:], fields)
        return fields


def _request_fields(request: str, fields: dict[str, Any]) -> None:
    """``GET /a?b HTTP/1.1`` → method, url and version. A garbled request line (TLS bytes sent to a
    plain-HTTP port, a scanner's junk) is still an event: the raw target is kept."""
    parts = request.split(" ")
    if len(parts) == 3 and parts[2].startswith("HTTP/"):
        fields["http.request.method"] = parts[0]
        fields["http.version"] = parts[2][5:]
        split_target(parts[1], fields)
    elif len(parts) >= 2 and parts[0].isalpha() and parts[0].isupper():
        fields["http.request.method"] = parts[0]
        split_target(" ".join(parts[1:]), fields)
    elif request and request != "-":
        fields["url.original"] = request


def _seconds(text: str) -> float | None:
    """nginx writes ``0.012``, ``-``, or several upstreams as ``0.010, 0.002`` / ``0.010 : 0.002``."""
    total = 0.0
    found = False
    for part in text.replace(":", ",").split(","):
        part = part.strip()
        if not part or part == "-":
            continue
        try:
            total += float(part)
        except ValueError:
            return None
        found = True
    return total if found else None


def _tail_fields(tail: str, fields: dict[str, Any]) -> None:
    unknown = False
    bare_time_seen = False
    for number, found in enumerate(_TAIL.finditer(tail)):
        if number == MAX_TAIL_ITEMS:
            unknown = True  # more than any log_format writes: the rest is not read (it cannot cost more)
            break
        key, raw = found.groups()
        value = unescape_nginx(raw[1:-1]) if raw.startswith('"') and raw.endswith('"') and len(raw) > 1 else raw
        if key:
            lowered = key.lower()
            if lowered in _DURATION_KEYS:
                seconds = _seconds(value)
                if seconds is not None:
                    fields["event.duration"] = int(seconds * 1e9)
            elif lowered in _UPSTREAM_KEYS:
                seconds = _seconds(value)
                if seconds is not None:
                    fields[f"http.upstream.{_UPSTREAM_KEYS[lowered]}"] = seconds
            elif lowered in ("xff", "http_x_forwarded_for", "x_forwarded_for"):
                if value not in ("", "-"):
                    fields["http.request.forwarded_for"] = value
            elif lowered in ("host", "vhost", "server_name"):
                if value not in ("", "-"):
                    fields["url.domain"] = value
            else:
                unknown = True
        elif raw.startswith('"'):
            if "http.request.forwarded_for" not in fields and _ADDRESS_LIST.fullmatch(value):
                fields["http.request.forwarded_for"] = value
            elif value not in ("", "-"):
                unknown = True
        elif not bare_time_seen and raw.replace(".", "", 1).isdigit():
            bare_time_seen = True
            # nginx $request_time is seconds with a dot; Apache %D is whole microseconds.
            fields["event.duration"] = int(float(raw) * 1e9) if "." in raw else int(raw) * 1000
        elif raw != "-":
            unknown = True
    if unknown:
        fields["tags"] = ["unparsed_suffix"]
