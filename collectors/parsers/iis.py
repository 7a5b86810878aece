"""IIS W3C extended logs. The ``#Fields:`` directive says which columns follow; it is part of the parser's
state (kept in checkpoints), so a tail resumed mid-file still knows the columns. IIS writes times in UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fields import is_ip
from canhgac.collectors.parsers.times import Times
from canhgac.collectors.parsers.url import decode_path, decode_query
from canhgac.core.errors import ParseError

#: What IIS writes when the site's W3C fields were never changed.
DEFAULT_FIELDS = ("date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
                  "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken")
Setter = Callable[[str, dict[str, Any]], None]


def _text(name: str, plus_is_space: bool = False) -> Setter:
    def put(value: str, fields: dict[str, Any]) -> None:
        fields[name] = value.replace("+", " ") if plus_is_space else value
    return put


def _int(name: str) -> Setter:
    def put(value: str, fields: dict[str, Any]) -> None:
        if value.isdigit():
            fields[name] = int(value)
    return put


def _address(name: str) -> Setter:
    def put(value: str, fields: dict[str, Any]) -> None:
        fields[name + (".ip" if is_ip(value) else ".address")] = value
    return put


def _stem(value: str, fields: dict[str, Any]) -> None:
    fields["url.path"] = decode_path(value)
    fields["_stem"] = value


def _query(value: str, fields: dict[str, Any]) -> None:
    fields["url.query"] = decode_query(value)
    fields["_query"] = value


def _user(value: str, fields: dict[str, Any]) -> None:
    fields["user.name"] = decode_path(value)


def _status(value: str, fields: dict[str, Any]) -> None:
    if not value.isdigit():
        raise ParseError(f"sc-status is not a number: {value[:20]!r}")
    code = int(value)
    fields["http.response.status_code"] = code
    fields["event.outcome"] = "success" if code < 400 else "failure"


def _millis(value: str, fields: dict[str, Any]) -> None:
    if value.isdigit():
        fields["event.duration"] = int(value) * 1_000_000


def _version(value: str, fields: dict[str, Any]) -> None:
    fields["http.version"] = value[5:] if value.startswith("HTTP/") else value


SETTERS: dict[str, Setter] = {
    "s-ip": _address("destination"), "c-ip": _address("source"), "s-port": _int("destination.port"),
    "cs-method": _text("http.request.method"), "cs-uri-stem": _stem, "cs-uri-query": _query,
    "cs-username": _user, "cs(user-agent)": _text("user_agent.original", plus_is_space=True),
    "cs(referer)": _text("http.request.referrer"), "cs(cookie)": _text("http.request.cookie"),
    "cs-host": _text("url.domain"), "sc-status": _status, "sc-substatus": _int("iis.substatus"),
    "sc-win32-status": _int("iis.win32_status"), "time-taken": _millis, "sc-bytes": _int("http.response.bytes"),
    "cs-bytes": _int("http.request.bytes"), "cs-version": _version, "s-sitename": _text("iis.site_name"),
    "s-computername": _text("host.hostname"), "x-forwarded-for": _text("http.request.forwarded_for"),
    "cs(x-forwarded-for)": _text("http.request.forwarded_for"),
}


class IisParser:
    format = "iis"

    def __init__(self, options: ParserOptions | None = None) -> None:
        self.times = Times(options.zone or UTC if options else UTC)
        self.static_fields: dict[str, Any] = {"event.kind": "event", "event.category": ["web"],
                                              "event.type": ["access"], "event.module": "iis",
                                              "event.dataset": "iis.access"}
        self._use(DEFAULT_FIELDS)

    def _use(self, names: list[str] | tuple[str, ...]) -> None:
        self.columns = list(names)
        lowered = [n.lower() for n in names]
        self._date = lowered.index("date") if "date" in lowered else None
        self._time = lowered.index("time") if "time" in lowered else None
        self._plan = [(i, SETTERS[n]) for i, n in enumerate(lowered) if n in SETTERS]

    def snapshot(self) -> dict[str, Any]:
        return {"fields": self.columns}

    def restore(self, state: dict[str, Any]) -> None:
        columns = state.get("fields")
        if isinstance(columns, list) and all(isinstance(c, str) for c in columns) and columns:
            self._use(columns)

    def parse(self, line: str) -> dict[str, Any] | None:
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                names = line[8:].split()
                if not names:
                    raise ParseError("#Fields: directive without fields")
                self._use(names)
            return None
        values = line.split(" ")
        if len(values) != len(self.columns):
            raise ParseError(f"{len(values)} values where #Fields names {len(self.columns)}")
        if self._date is None or self._time is None:
            raise ParseError("the #Fields directive has no date and time")
        date, clock = values[self._date], values[self._time]
        try:
            timestamp = self.times.parts(date[0:4], date[5:7], date[8:10], clock[:8],
                                         millis=(clock[9:12] + "00")[:3] if len(clock) > 9 else "000")
        except ValueError as exc:
            raise ParseError(str(exc)) from None
        if len(date) != 10 or date[4] != "-" or date[7] != "-":
            raise ParseError(f"not a W3C date: {date[:20]!r}")
        fields: dict[str, Any] = {"@timestamp": timestamp}
        for index, setter in self._plan:
            value = values[index]
            if value != "-":
                setter(value, fields)
        stem = fields.pop("_stem", None)
        query = fields.pop("_query", None)
        if stem is not None:
            fields["url.original"] = stem + ("?" + query if query else "")
        return fields
