"""Declarative tables: Sigma field names to ECS event fields, and Sigma log sources to the events they see.

Both tables are data, not code: adding a field or a log source is one line here. Log sources whose events
no Canh Gác parser produces yet are routed against the field values a parser for them must set; those
values are listed in ``rules/README.md`` so the collectors can honour them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from canhgac.core.model import Event

#: Sigma field names (W3C extended log names of web rules, Sysmon-for-Linux names of process rules,
#: generic firewall names) to the ECS fields of docs/events.md. Unlisted names are used as given, so a
#: rule may name ECS fields directly.
FIELD_MAP: Mapping[str, str] = MappingProxyType({
    # web servers and proxies
    "cs-uri-query": "url.query",
    "cs-uri-stem": "url.path",
    "cs-uri": "url.original",
    "c-uri": "url.original",
    "c-uri-query": "url.query",
    "c-uri-stem": "url.path",
    "c-uri-extension": "url.extension",
    "c-ip": "source.ip",
    "cs-method": "http.request.method",
    "sc-status": "http.response.status_code",
    "c-useragent": "user_agent.original",
    "cs-user-agent": "user_agent.original",
    "cs-referer": "http.request.referrer",
    "cs-host": "url.domain",
    "cs-username": "user.name",
    "cs-cookie": "http.request.cookie",
    "cs-bytes": "http.request.bytes",
    "sc-bytes": "http.response.body.bytes",
    "r-dns": "url.domain",
    "s-ip": "destination.ip",
    "dst_ip": "destination.ip",
    "dst_port": "destination.port",
    "src_ip": "source.ip",
    "src_port": "source.port",
    # Linux process, file and network events (Sysmon for Linux names)
    "Image": "process.executable",
    "CommandLine": "process.command_line",
    "ParentImage": "process.parent.executable",
    "ParentCommandLine": "process.parent.command_line",
    "CurrentDirectory": "process.working_directory",
    "User": "user.name",
    "LogonId": "process.user.id",
    "ProcessId": "process.pid",
    "TargetFilename": "file.path",
    "DestinationIp": "destination.ip",
    "DestinationPort": "destination.port",
    "DestinationHostname": "destination.domain",
    "SourceIp": "source.ip",
    "SourcePort": "source.port",
    "Initiated": "network.initiated",
})

#: Field-less (keyword) detections search every text field of the event except these bookkeeping ones,
#: the way a full-text search over the stored document would (``event.original`` is one of the fields).
KEYWORD_EXCLUDED: frozenset[str] = frozenset({
    "@timestamp", "event.id", "event.ingested", "event.kind", "event.module", "event.dataset",
    "event.category", "event.type", "organization.id", "service.id", "log.file.path", "log.offset",
})
#: The name under which keyword tests appear in compiled trees and matched-field lists.
KEYWORD_FIELD = "*"


def ecs_field(sigma_field: str) -> str:
    """The event field a Sigma field name refers to."""
    return FIELD_MAP.get(sigma_field, sigma_field)


def keyword_texts(event: Event) -> list[str]:
    """The values a keyword detection searches: every string (or string list item) outside the excluded fields."""
    texts: list[str] = []
    for name, value in event.items():
        if name in KEYWORD_EXCLUDED:
            continue
        if type(value) is str:
            texts.append(value)
        elif type(value) is list:
            texts.extend(item for item in value if type(item) is str)
    return texts


@dataclass(frozen=True)
class EventFilter:
    """Events where every ``field`` has one of its values (for a list field: contains one of them)."""

    tests: tuple[tuple[str, frozenset[str]], ...]

    @classmethod
    def of(cls, **fields: str | tuple[str, ...]) -> EventFilter:
        """``EventFilter.of(event__dataset="system.auth")``: double underscores stand for dots."""
        return cls(tuple((name.replace("__", "."), frozenset((value,) if isinstance(value, str) else value))
                         for name, value in sorted(fields.items())))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.tests)

    def accepts(self, event: Event) -> bool:
        for name, values in self.tests:
            found = event.get(name)
            if type(found) is list:
                if not any(item in values for item in found):
                    return False
            elif found not in values:
                return False
        return True

    def __str__(self) -> str:
        return " and ".join(f"{name} in {sorted(values)}" for name, values in self.tests)


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


#: Web server and proxy access logs. The one-stop, e-office and gateway audit logs are ``web`` too in ECS
#: terms, but they describe application actions, not HTTP requests: they have their own products below.
WEB_EVENTS = EventFilter.of(event__category="web", event__dataset=(
    "nginx.access", "apache.access", "iis.access", "modsecurity.audit", "squid.access", "haproxy.log"))
AUTH_EVENTS = EventFilter.of(event__dataset="system.auth")
LINUX_LOGS = EventFilter.of(event__module=("system", "auditd"))


def _syslog_program(*names: str) -> EventFilter:
    return EventFilter.of(event__module="system", process__name=names)


_R = LogsourceRoute
#: The log sources rules may use. A rule with any other log source is reported, never silently idle.
ROUTES: tuple[LogsourceRoute, ...] = (
    _R("webserver", None, None, WEB_EVENTS),
    _R("proxy", None, None, WEB_EVENTS),
    _R("webserver", "apache", None, EventFilter.of(event__module="apache")),
    _R("webserver", "nginx", None, EventFilter.of(event__module="nginx")),
    _R("webserver", "iis", None, EventFilter.of(event__module="iis")),
    _R(None, None, "apache", EventFilter.of(event__module="apache")),
    _R(None, None, "nginx", EventFilter.of(event__module="nginx")),
    _R(None, "apache", None, EventFilter.of(event__module="apache")),
    _R(None, "nginx", None, EventFilter.of(event__module="nginx")),
    _R("waf", None, None, EventFilter.of(event__module="modsecurity")),
    _R(None, "modsecurity", None, EventFilter.of(event__module="modsecurity")),
    _R("firewall", None, None, EventFilter.of(event__category="network", event__kind="event")),
    _R("firewall", "fortigate", None, EventFilter.of(event__module="fortinet")),
    _R(None, "linux", None, LINUX_LOGS),
    _R(None, "linux", "sshd", AUTH_EVENTS),
    _R(None, "linux", "auth", AUTH_EVENTS),
    _R(None, "linux", "syslog", EventFilter.of(event__module="system")),
    _R(None, "linux", "sudo", _syslog_program("sudo")),
    _R(None, "linux", "cron", _syslog_program("cron", "CRON", "crond")),
    _R(None, "linux", "vsftpd", _syslog_program("vsftpd")),
    _R(None, "linux", "clamav", _syslog_program("clamd", "freshclam", "clamav")),
    _R(None, "linux", "guacamole", _syslog_program("guacd", "guacamole")),
    _R(None, "linux", "auditd", EventFilter.of(event__module="auditd")),
    _R("process_creation", "linux", None, EventFilter.of(event__category="process", event__type="start")),
    _R("file_event", "linux", None, EventFilter.of(event__category="file", event__type="creation")),
    _R("network_connection", "linux", None, EventFilter.of(event__category="network", event__type="connection")),
    _R(None, "onestop", None, EventFilter.of(event__dataset="onestop.audit")),
    _R(None, "onestop", "audit", EventFilter.of(event__dataset="onestop.audit")),
    _R(None, "eoffice", None, EventFilter.of(event__dataset="eoffice.audit")),
    _R(None, "gateway", None, EventFilter.of(event__dataset="gateway.access")),
    _R(None, "gateway", "access", EventFilter.of(event__dataset="gateway.access")),
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
