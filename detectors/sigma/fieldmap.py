"""Declarative tables: Sigma field names to ECS event fields, and Sigma log sources to the events they see.

Both tables are data, not code: adding a field or a log source is one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from canhgac.model import Event

#: Sigma web server / proxy field names (W3C extended log format) to the ECS fields of docs/events.md.
#: Names not listed here are used as given, so a rule may name ECS fields directly.
FIELD_MAP: Mapping[str, str] = MappingProxyType({
    "cs-uri-query": "url.query",
    "cs-uri-stem": "url.path",
    "cs-uri": "url.original",
    "c-uri": "url.original",
    "c-uri-query": "url.query",
    "c-uri-stem": "url.path",
    "c-ip": "source.ip",
    "cs-method": "http.request.method",
    "sc-status": "http.response.status_code",
    "c-useragent": "user_agent.original",
    "cs-user-agent": "user_agent.original",
    "cs-referer": "http.request.referrer",
    "cs-host": "url.domain",
    "cs-username": "user.name",
    "r-dns": "url.domain",
})

#: Field-less (keyword) detections are matched against the raw line.
KEYWORD_FIELD = "event.original"


def ecs_field(sigma_field: str) -> str:
    """The event field a Sigma field name refers to."""
    return FIELD_MAP.get(sigma_field, sigma_field)


@dataclass(frozen=True)
class EventFilter:
    """Events whose ``field`` equals ``value`` or, for a list field, contains it."""

    field: str
    value: str

    def accepts(self, event: Event) -> bool:
        found = event.get(self.field)
        if type(found) is list:
            return self.value in found
        return found == self.value

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}"


@dataclass(frozen=True)
class LogsourceRoute:
    """A Sigma log source (exact category / product / service) and the events it covers."""

    category: str | None
    product: str | None
    service: str | None
    events: EventFilter

    def fits(self, category: str | None, product: str | None, service: str | None) -> bool:
        return (self.category, self.product, self.service) == (category, product, service)

    def describe(self) -> str:
        return describe_logsource(self.category, self.product, self.service)


WEB_EVENTS = EventFilter("event.category", "web")
AUTH_EVENTS = EventFilter("event.dataset", "system.auth")

#: The log sources rules may use. A rule with any other log source is reported, never silently idle.
ROUTES: tuple[LogsourceRoute, ...] = (
    LogsourceRoute(category="webserver", product=None, service=None, events=WEB_EVENTS),
    LogsourceRoute(category="proxy", product=None, service=None, events=WEB_EVENTS),
    LogsourceRoute(category=None, product="linux", service="sshd", events=AUTH_EVENTS),
    LogsourceRoute(category=None, product="linux", service="auth", events=AUTH_EVENTS),
)


def route_for(category: str | None, product: str | None, service: str | None) -> LogsourceRoute | None:
    """The route of a rule's log source (compared case-insensitively), or None if Canh Gác has no such events."""
    key = tuple(part.lower() if isinstance(part, str) else part for part in (category, product, service))
    for route in ROUTES:
        if route.fits(*key):
            return route
    return None


def describe_logsource(category: str | None, product: str | None, service: str | None) -> str:
    parts = [f"{name}: {value}" for name, value in (("category", category), ("product", product),
                                                     ("service", service)) if value is not None]
    return "{" + ", ".join(parts) + "}"
