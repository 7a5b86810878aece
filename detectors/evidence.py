"""Evidence a rule can match: what an attacker controls, decoded and normalised the way a WAF does first.

From the request target (path, each query parameter), the request body where a log has one, the user
agent, referrer, cookies, the user name and a process command line, ``evidence`` derives plain fields under
``canhgac.evidence.`` (listed in docs/events.md): each value percent-decoded repeatedly (with ``%uXXXX``
and overlong UTF-8), HTML entities and ``\\xHH`` / ``\\uHHHH`` escapes resolved, NUL removed, whitespace
compressed and lower-cased; a SQL form without comments, a shell form without evasions, and libinjection's
verdicts per value. Rules stay declarative Sigma over these fields; the live engine, ``canhgac hunt`` and
the rule fixtures call the same ``with_evidence`` on raw events, so all three see the same fields.

Work is bounded: a value is normalised on its first ``MAX_EVALUATED_CHARS`` (the event is flagged
``capped``), a request contributes at most ``MAX_VALUES`` values, and every pattern here is linear. See
docs/decisions/0028-evidence-normalisation.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from canhgac.core.limits import MAX_EVALUATED_CHARS
from canhgac.core.model import Event
from canhgac.detectors import decoding
from canhgac.detectors.decoding import (
    CACHE_LIMIT,
    Value,
    normalise,
    normalise_path,
    normalise_text,
    strip_shell_evasions,
)

PREFIX = "canhgac.evidence."
ARGS, PATH, HEADERS, USER = PREFIX + "args", PREFIX + "path", PREFIX + "headers", PREFIX + "user"
SQL, CMD, COMMAND_LINE = PREFIX + "sql", PREFIX + "cmd", PREFIX + "command_line"
FINGERPRINTS, VERDICT, FLAGS, LONGEST = (PREFIX + "sqli_fingerprint", PREFIX + "verdict", PREFIX + "flags",
                                         PREFIX + "longest")
#: Values one request contributes at most (parameters, body values, cookies).
MAX_VALUES = 256
#: Header values are evidence only with one of these: what header rules look for (markup, lookups, quotes).
_HEADER_HINTS = re.compile(r"[<>{}$`'\"\\]|script")
_PLAIN_NAME = re.compile(r"[\w.\-\[\]]{1,64}")


# where values come from ----------------------------------------------------------------------------
def split_target(original: str) -> tuple[str, str | None]:
    """Path and raw query of a request target (origin or absolute form)."""
    path, mark, query = original.partition("?")
    if path.startswith(("http://", "https://")):
        host_end = path.find("/", path.index("//") + 2)
        path = path[host_end:] if host_end > 0 else "/"
    return path, query if mark else None


def form_values(raw: str) -> Iterable[str]:
    """Values (and names that are not plain identifiers) of ``a=1&b=2``; a part without ``=`` is a value."""
    for count, part in enumerate(raw.split("&", MAX_VALUES)):
        if count >= MAX_VALUES:
            return
        name, equals, value = part.partition("=")
        if not equals:
            if part:
                yield part
            continue
        if name and not _PLAIN_NAME.fullmatch(name):
            yield name
        yield value


def json_values(document: Any, out: list[str], depth: int = 0) -> None:
    """String and number leaves of a JSON body (object keys included), at most ``MAX_VALUES``."""
    if len(out) >= MAX_VALUES or depth > 32:
        return
    if isinstance(document, str):
        out.append(document)
    elif isinstance(document, bool) or document is None:
        return
    elif isinstance(document, int | float):
        out.append(str(document))
    elif isinstance(document, dict):
        for key, item in document.items():
            if not _PLAIN_NAME.fullmatch(str(key)):
                out.append(str(key))
            json_values(item, out, depth + 1)
    elif isinstance(document, list):
        for item in document:
            json_values(item, out, depth + 1)


def body_values(body: str) -> tuple[list[str], bool]:
    """The values of a request body: JSON leaves, else form fields; whether it was JSON (no ``+`` decoding)."""
    head = body[:1].lstrip() or body.lstrip()[:1]
    if head in ("{", "["):
        try:
            document = orjson.loads(body[: 8 * MAX_EVALUATED_CHARS])
        except orjson.JSONDecodeError:
            pass
        else:
            found: list[str] = []
            json_values(document, found)
            return found, True
    return list(form_values(body[: 8 * MAX_EVALUATED_CHARS])), False


def cookie_values(header: str) -> Iterable[str]:
    for count, part in enumerate(header.split(";", MAX_VALUES)):
        if count >= MAX_VALUES:
            return
        _, _, value = part.partition("=")
        if value.strip():
            yield value.strip()


# the event ------------------------------------------------------------------------------------------
def _text(event: Event, name: str) -> str | None:
    value = event.get(name)
    return value if type(value) is str and value else None


def _with_inner(values: list[Value]) -> list[Value]:
    """The values followed by what the base64 ones among them encode."""
    inner = [value.inner for value in values if value.inner is not None]
    return values + inner if inner else values  # type: ignore[operator]


_targets: dict[str, tuple[Any, ...]] = {}


def _target_evidence(original: str) -> tuple[Any, ...]:
    """(path, flags, values) of one request target, cached: portals serve the same targets all day."""
    found = _targets.get(original)
    if found is None:
        path_raw, query = split_target(original)
        path, flags = normalise_path(path_raw)
        values = _with_inner([normalise(raw) for raw in form_values(query)]) if query else []
        found = (path, flags, values)
        if len(_targets) >= CACHE_LIMIT:
            _targets.clear()
        _targets[original] = found
    return found


#: The fields an attacker controls, in the order ``evidence`` reads (and caches) them.
INPUT_FIELDS = ("url.original", "url.query", "url.path", "http.request.body.content", "user_agent.original",
                "http.request.referrer", "http.request.cookie", "user.name", "process.command_line",
                "http.request.method", "http.version")
#: Registered HTTP methods (RFC 9110, WebDAV, CalDAV, HTTP/2 preface) and versions; others are flagged.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
                           "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
                           "MKCALENDAR", "ACL", "PRI"})
KNOWN_VERSIONS = frozenset({"0.9", "1.0", "1.1", "2", "2.0", "3", "3.0"})
#: A path or value this long is flagged ``long_value`` (the exact length is in ``canhgac.evidence.longest``).
LONG_VALUE = 4000
_NO_EVIDENCE: dict[str, Any] = {}
_events: dict[tuple[str | None, ...], dict[str, Any]] = {}


def evidence(event: Event) -> dict[str, Any]:
    """The ``canhgac.evidence.*`` fields of one event (empty when it carries nothing an attacker controls).

    The result is cached by the event's input fields and shared between events with the same inputs:
    treat it, and the lists in it, as read-only."""
    get = event.get
    key = tuple([value if type(value := get(name)) is str else None for name in INPUT_FIELDS])
    found = _events.get(key)
    if found is None:
        found = _compute(*key) or _NO_EVIDENCE
        if len(_events) >= CACHE_LIMIT:
            _events.clear()
        _events[key] = found
    return found


def _compute(original: str | None, query: str | None, path_text: str | None, body: str | None,
             agent: str | None, referrer: str | None, cookie: str | None, user: str | None,
             command: str | None, method: str | None, version: str | None) -> dict[str, Any]:
    if original and not body and not user:
        fields = dict(_target_summary(original))  # the usual web request: its target says it all
    else:
        path, path_flags, values = _target_evidence(original) if original else _parts_evidence(query, path_text)
        values = list(values)
        if body:
            raws, is_json = body_values(body)
            values += _with_inner([normalise(raw, form=not is_json) for raw in raws[: MAX_VALUES - len(values)]])
        fields = _summarise(path, path_flags, values, normalise(user, form=False) if user else None)
    headers = [text for raw in (agent, referrer) if raw and _HEADER_HINTS.search(text := normalise_text(raw)[0])]
    if cookie:
        headers += [text for raw in cookie_values(cookie) if _HEADER_HINTS.search(text := normalise_text(raw)[0])]
    if headers:
        fields[HEADERS] = headers
    if command:
        fields[COMMAND_LINE] = strip_shell_evasions(normalise_text(command)[1].lower())
    protocol = []
    if method and method.upper() not in KNOWN_METHODS:
        protocol.append("unknown_method")
    if version and version not in KNOWN_VERSIONS:
        protocol.append("unknown_version")
    if protocol:
        fields[FLAGS] = sorted({*fields.get(FLAGS, ()), *protocol})
    return fields


def _parts_evidence(query: str | None, path_text: str | None) -> tuple[str | None, frozenset[str], list[Value]]:
    """For sources that log only the decoded path and query."""
    path, flags = normalise_path(path_text) if path_text else (None, frozenset())
    return path, flags, _with_inner([normalise(raw) for raw in form_values(query)]) if query else []


def _summarise(path: str | None, path_flags: frozenset[str], values: list[Value], user: Value | None) -> dict[str, Any]:
    """The fields of a request's path, values and user name."""
    fields: dict[str, Any] = {}
    flags = set(path_flags)
    longest = 0
    if path is not None:
        fields[PATH] = path
        longest = len(path)
    if values:
        fields[ARGS] = [value.text for value in values]
        if sql := [value.sql for value in values if value.sql is not value.text and value.sql != value.text]:
            fields[SQL] = sql
        if cmd := [value.cmd for value in values if value.cmd is not value.text and value.cmd != value.text]:
            fields[CMD] = cmd
    checked = values if user is None else [*values, user]
    if user is not None:
        fields[USER] = user.text
    fingerprints: list[str] = []
    xss = False
    for value in checked:
        if value.length > longest:
            longest = value.length
        if value.fingerprint:
            fingerprints.append(value.fingerprint)
        if value.xss:
            xss = True
        if value.flags:
            flags |= value.flags
    if longest:
        fields[LONGEST] = longest
        if longest >= LONG_VALUE:
            flags.add("long_value")
    verdict = ["sqli"] if fingerprints else []
    if fingerprints:
        fields[FINGERPRINTS] = list(dict.fromkeys(fingerprints))
    if xss:
        verdict.append("xss")
    if verdict:
        fields[VERDICT] = verdict
    if flags:
        fields[FLAGS] = sorted(flags)
    return fields


_summaries: dict[str, dict[str, Any]] = {}


def _target_summary(original: str) -> dict[str, Any]:
    found = _summaries.get(original)
    if found is None:
        path, flags, values = _target_evidence(original)
        found = _summarise(path, flags, values, None)
        if len(_summaries) >= CACHE_LIMIT:
            _summaries.clear()
        _summaries[original] = found
    return found


def clear_caches() -> None:
    """Forget the normalised values and targets seen so far (benchmarks measure cold caches with it)."""
    decoding.clear_caches()
    _targets.clear()
    _summaries.clear()
    _events.clear()


def with_evidence(events: Sequence[Event]) -> list[Event]:
    """The events with their evidence fields added (copies; an event without evidence is passed as it is)."""
    out: list[Event] = []
    for event in events:
        fields = evidence(event)
        out.append({**event, **fields} if fields else event)
    return out


def event_with_evidence(event: Event) -> Event:
    fields = evidence(event)
    return {**event, **fields} if fields else event
