"""ModSecurity audit logs: JSON (v3 ``SecAuditLogFormat JSON``, and v2's shape) and the native serial format,
whose records span many lines (``--abcd1234-A--`` … ``--abcd1234-Z--``, v3 writes ``---abcd1234---A--``).

Native records are assembled by ``RecordFramer`` before parsing; a record's position is the offset of its
``A`` line, and a checkpoint never passes the start of a record that is not complete yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fields import is_ip
from canhgac.collectors.parsers.times import Times
from canhgac.collectors.parsers.url import split_target
from canhgac.collectors.raw import RawLine
from canhgac.core.errors import ParseError

BOUNDARY = re.compile(rb"^-{2,3}([0-9A-Za-z]{8,})-{1,3}([A-Z])--\s*$")
SECTION_LIMIT = 8192  # bodies can be huge: a section is kept up to this many bytes (a body's start, for detection)
_A = re.compile(r"\[([^\]]+)\] (\S+) (\S+) (\d+) (\S+) (\d+)")
_TAGGED = re.compile(r'\[(id|msg|severity|tag|ver|data) "((?:[^"\\]|\\.)*)"\]')
_ACTION = re.compile(r"Action: Intercepted|Access denied", re.IGNORECASE)
SEVERITIES = {"EMERGENCY": 0, "ALERT": 1, "CRITICAL": 2, "ERROR": 3, "WARNING": 4, "NOTICE": 5, "INFO": 6,
              "DEBUG": 7}
STATIC = {"event.module": "modsecurity", "event.dataset": "modsecurity.audit",
          "event.category": ["intrusion_detection", "web"], "observer.vendor": "OWASP",
          "observer.product": "ModSecurity", "observer.type": "waf"}


class RecordFramer:
    """Native serial records → one ``RawLine`` each; JSON lines and stray lines pass through alone."""

    def __init__(self) -> None:
        self._start: int | None = None
        self._parts: list[bytes] = []
        self._section_bytes = 0

    def pending_offset(self) -> int | None:
        return self._start

    def feed(self, lines: Sequence[RawLine]) -> list[RawLine]:
        records: list[RawLine] = []
        for line in lines:
            boundary = BOUNDARY.match(line.data) if line.data.startswith(b"--") else None
            if boundary is not None:
                section = boundary.group(2)
                if section == b"A":
                    records += self.flush()
                    self._start = line.offset
                elif self._start is None:
                    records.append(line)
                    continue
                self._parts.append(line.data)
                self._section_bytes = 0
                if section == b"Z":
                    records += self.flush()
            elif self._start is not None:
                if self._section_bytes < SECTION_LIMIT:
                    self._parts.append(line.data[:SECTION_LIMIT - self._section_bytes])
                self._section_bytes += len(line.data) + 1
            else:
                records.append(line)
        return records

    def flush(self) -> list[RawLine]:
        if self._start is None:
            return []
        record = RawLine(self._start, b"\n".join(self._parts))
        self._start, self._parts = None, []
        return [record]


class ModSecurityParser:
    format = "modsecurity"
    max_bytes = 512 * 1024

    def __init__(self, options: ParserOptions | None = None) -> None:
        self.times = Times((options or ParserOptions()).times_zone)
        self.static_fields: dict[str, Any] = {"event.kind": "event", **STATIC}

    def framer(self) -> RecordFramer:
        return RecordFramer()

    def parse(self, text: str) -> dict[str, Any]:
        if text.startswith("{"):
            try:
                document = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise ParseError(f"invalid JSON: {exc}") from None
            if not isinstance(document, dict):
                raise ParseError("a ModSecurity JSON record must be an object")
            try:
                return self._json(document)
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise ParseError(f"not a ModSecurity audit record: {type(exc).__name__} {exc}") from None
        if text.startswith("--"):
            return self._native(text)
        raise ParseError("not a ModSecurity audit record (neither JSON nor a --boundary-A-- section)")

    # JSON -----------------------------------------------------------------------------------------
    def _json(self, document: dict[str, Any]) -> dict[str, Any]:
        transaction = document["transaction"]
        fields: dict[str, Any] = {}
        if "client_ip" in transaction:  # v3
            _addresses(fields, transaction.get("client_ip"), transaction.get("client_port"),
                       transaction.get("host_ip"), transaction.get("host_port"))
            fields["@timestamp"] = self._ctime(str(transaction["time_stamp"]))
            fields["transaction.id"] = str(transaction.get("unique_id", ""))
            request, response = transaction.get("request") or {}, transaction.get("response") or {}
            method, uri = request.get("method"), request.get("uri")
            if method:
                fields["http.request.method"] = str(method)
            if uri:
                split_target(str(uri), fields)
            if request.get("http_version") is not None:
                fields["http.version"] = str(request["http_version"])
            _headers(request.get("headers") or {}, fields)
            _body(request.get("body"), fields)
            if isinstance(response.get("http_code"), int):
                fields["http.response.status_code"] = response["http_code"]
            messages = [_v3_message(m) for m in transaction.get("messages") or []]
            intercepted = bool(response.get("http_code", 200) >= 400 and messages)
        else:  # v2
            _addresses(fields, transaction.get("remote_address"), transaction.get("remote_port"),
                       transaction.get("local_address"), transaction.get("local_port"))
            fields["@timestamp"] = self._clf(str(transaction["time"]))
            fields["transaction.id"] = str(transaction.get("transaction_id", ""))
            request, response = document.get("request") or {}, document.get("response") or {}
            _request_line(str(request.get("request_line", "")), fields)
            _headers(request.get("headers") or {}, fields)
            _body(request.get("body"), fields)
            if isinstance(response.get("status"), int):
                fields["http.response.status_code"] = response["status"]
            audit = document.get("audit_data") or {}
            messages = [_tagged(str(m)) for m in audit.get("messages") or []]
            intercepted = bool((audit.get("action") or {}).get("intercepted"))
        _verdict(messages, intercepted, fields)
        return fields

    # native serial --------------------------------------------------------------------------------
    def _native(self, text: str) -> dict[str, Any]:
        sections = _sections(text)
        if "A" not in sections:
            raise ParseError("ModSecurity record without its A section")
        header = _A.match(sections["A"].strip())
        if header is None:
            raise ParseError("ModSecurity A section is not '[time] id client port server port'")
        when, unique_id, client, client_port, server, server_port = header.groups()
        fields: dict[str, Any] = {"@timestamp": self._clf(when), "transaction.id": unique_id}
        _addresses(fields, client, client_port, server, server_port)
        request = sections.get("B", "").split("\n")
        _request_line(request[0], fields)
        _headers(dict(_header_pairs(request[1:])), fields)
        # C: the body as received; I: as v2 logs a multipart one without its files. Both cut by the framer.
        _body(sections.get("C", sections.get("I")), fields, whole=False)
        status_line = sections.get("F", "").split("\n", 1)[0].split(" ")
        if len(status_line) >= 2 and status_line[1].isdigit():
            fields["http.response.status_code"] = int(status_line[1])
        trailer = sections.get("H", "")
        messages = [_tagged(line) for line in trailer.split("\n")
                    if line.startswith(("Message:", "ModSecurity:"))]
        _verdict(messages, _ACTION.search(trailer) is not None, fields)
        if "Z" not in sections:
            fields["tags"] = ["incomplete_record"]
        return fields

    # times ----------------------------------------------------------------------------------------
    def _clf(self, text: str) -> str:
        try:
            if "." in text[:21]:  # 22/Nov/2026:15:04:05.123456 +0700
                dot = text.index(".")
                space = text.find(" ", dot)
                text = text[:dot] + (text[space:] if space > 0 else "")
            return self.times.clf(text)
        except ValueError as exc:
            raise ParseError(str(exc)) from None

    def _ctime(self, text: str) -> str:
        """v3 writes ``Sun Nov 22 15:04:05 2026`` in the server's local time."""
        parts = text.split()
        if len(parts) != 5:
            raise ParseError(f"not a ModSecurity time: {text[:40]!r}")
        _, month, day, clock, year = parts
        try:
            return self.times.clf(f"{int(day):02d}/{month}/{year}:{clock}")
        except ValueError as exc:
            raise ParseError(str(exc)) from None


def _sections(text: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current: str | None = None
    body: list[str] = []
    for line in text.split("\n"):
        boundary = BOUNDARY.match(line.encode()) if line.startswith("--") else None
        if boundary is not None:
            if current is not None:
                sections[current] = "\n".join(body)
            current, body = boundary.group(2).decode(), []
        elif current is not None:
            body.append(line)
    if current is not None:
        sections[current] = "\n".join(body)
    return sections


def _addresses(fields: dict[str, Any], client: Any, client_port: Any, server: Any, server_port: Any) -> None:
    for name, address, port in (("source", client, client_port), ("destination", server, server_port)):
        if address:
            fields[f"{name}.ip" if is_ip(str(address)) else f"{name}.address"] = str(address)
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            fields[f"{name}.port"] = int(port)


def _request_line(line: str, fields: dict[str, Any]) -> None:
    parts = line.strip().split(" ")
    if len(parts) == 3 and parts[2].startswith("HTTP/"):
        fields["http.request.method"] = parts[0]
        fields["http.version"] = parts[2][5:]
        split_target(parts[1], fields)
    elif line.strip():
        fields["url.original"] = line.strip()


def _header_pairs(lines: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            pairs.append((name.strip(), value.strip()))
    return pairs


def _headers(headers: dict[str, Any], fields: dict[str, Any]) -> None:
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered == "host":
            fields["url.domain"] = str(value).split(":")[0]
        elif lowered == "user-agent":
            fields["user_agent.original"] = str(value)
        elif lowered == "referer":
            fields["http.request.referrer"] = str(value)
        elif lowered == "x-forwarded-for":
            fields["http.request.forwarded_for"] = str(value)


def _body(body: Any, fields: dict[str, Any], *, whole: bool = True) -> None:
    """The request body (a string, or v2 JSON's list of its parts) as ``http.request.body.content``, its first
    ``SECTION_LIMIT`` characters: what the web rules read of a POST (login forms, searches, API calls)."""
    if isinstance(body, list):
        body = "".join(str(part) for part in body)
    if not isinstance(body, str) or not body.strip():
        return
    fields["http.request.body.content"] = body.strip("\n")[:SECTION_LIMIT]
    if whole:
        fields["http.request.body.bytes"] = len(body.encode())


def _tagged(line: str) -> dict[str, Any]:
    found: dict[str, Any] = {"tags": []}
    for key, value in _TAGGED.findall(line):
        if key == "tag":
            found["tags"].append(value)
        else:
            found.setdefault(key, value)
    return found


def _v3_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        return _tagged(str(message))
    details = message.get("details") or {}
    return {"id": str(details.get("ruleId", "")), "msg": str(message.get("message", "")),
            "severity": str(details.get("severity", "")), "ver": str(details.get("ver", "")),
            "tags": [str(t) for t in details.get("tags") or []]}


def _verdict(messages: list[dict[str, Any]], intercepted: bool, fields: dict[str, Any]) -> None:
    messages = [m for m in messages if m.get("id") or m.get("msg")]
    if messages:
        fields["event.kind"] = "alert"
        fields["rule.id"] = [m["id"] for m in messages if m.get("id")]
        fields["rule.name"] = [m["msg"] for m in messages if m.get("msg")]
        rulesets = sorted({m["ver"] for m in messages if m.get("ver")})
        if rulesets:
            fields["rule.ruleset"] = rulesets[0]
        attacks = sorted({t for m in messages for t in m["tags"] if t.startswith("attack-")})
        if attacks:
            fields["rule.category"] = attacks
        severities = [_severity(m.get("severity", "")) for m in messages]
        known = [s for s in severities if s is not None]
        if known:
            fields["event.severity"] = min(known)
    fields["event.action"] = "intercepted" if intercepted else ("detected" if messages else "logged")
    fields["event.type"] = ["denied"] if intercepted else ["info"]
    fields["event.outcome"] = "failure" if intercepted else "success"


def _severity(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return SEVERITIES.get(text.upper())
