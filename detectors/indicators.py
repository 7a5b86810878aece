"""Indicator lists (IP addresses and networks, domains, URLs) from plain text, CSV or STIX 2.1 bundles,
matched against every event with hash lookups, and turned into alerts like rules are."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from canhgac.core.config_detection import IndicatorList
from canhgac.core.errors import RuleError
from canhgac.core.model import Alert, Event, parse_utc, stable_id

DETECTOR = "indicator"
IP_FIELDS = ("source.ip", "destination.ip", "client.ip")
DOMAIN_FIELDS = ("url.domain", "destination.domain", "dns.question.name")
URL_FIELDS = ("url.full",)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
#: STIX comparisons we can match: ``[ipv4-addr:value = '203.0.113.7']`` and the like, OR-ed.
_STIX = re.compile(r"(ipv4-addr|ipv6-addr|domain-name|url):value\s*=\s*'((?:[^'\\]|\\.)*)'")
_STIX_TYPES = {"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain", "url": "url"}


@dataclass
class Indicators:
    """The indicators of one list, indexed for lookups."""

    source: IndicatorList
    ips: set[str] = field(default_factory=set)
    networks: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (version, prefix) → network ints
    domains: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    skipped: int = 0

    @property
    def size(self) -> int:
        return len(self.ips) + sum(map(len, self.networks.values())) + len(self.domains) + len(self.urls)

    def add(self, text: str, kind: str | None = None) -> bool:
        """Add one indicator (kind ``ip``, ``domain``, ``url`` or None to guess); False if not understood."""
        value = text.strip()
        if not value:
            return False
        if kind in (None, "ip", "cidr", "ipv4-addr", "ipv6-addr", "ipv4", "ipv6"):
            try:
                network = ipaddress.ip_network(value, strict=False)
            except ValueError:
                network = None
            if network is not None:
                if network.num_addresses == 1:
                    self.ips.add(str(network.network_address))
                else:
                    key = (network.version, network.prefixlen)
                    self.networks.setdefault(key, set()).add(int(network.network_address))
                return True
        if kind in (None, "url") and "://" in value:
            self.urls.add(normalise_url(value))
            return True
        if kind in (None, "domain", "domain-name", "hostname"):
            domain = value.lower().rstrip(".")
            if _DOMAIN.match(domain):
                self.domains.add(domain)
                return True
        return False

    def match_ip(self, text: str) -> str | None:
        if text in self.ips:
            return text
        if not self.networks:
            return None
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
            if str(address) in self.ips:
                return str(address)
        number, bits = int(address), address.max_prefixlen
        for (version, prefix), networks in self.networks.items():
            if version == address.version and (number >> (bits - prefix)) << (bits - prefix) in networks:
                return str(ipaddress.ip_network((number >> (bits - prefix) << (bits - prefix), prefix)))
        return None

    def match_domain(self, text: str) -> str | None:
        name = text.lower().rstrip(".")
        while name:
            if name in self.domains:
                return name
            _, _, name = name.partition(".")
        return None


def normalise_url(text: str) -> str:
    """``HTTPS://Evil.example/a/`` → ``evil.example/a``: scheme dropped, host lower-cased, no trailing slash."""
    rest = text.strip().split("://", 1)[-1]
    host, slash, path = rest.partition("/")
    return (host.lower() + slash + path).rstrip("/")


def load_indicator_list(source: IndicatorList, path: Path) -> Indicators:
    """Read one list; a file that cannot be read or parsed raises a ``RuleError`` naming it."""
    found = Indicators(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read indicator list: {exc}", file=str(path)) from None
    kind = source.format
    if kind == "auto":
        kind = {".csv": "csv", ".json": "stix"}.get(path.suffix.lower(), "text")
    if kind == "stix":
        _read_stix(text, path, found)
    elif kind == "csv":
        _read_csv(text, found)
    else:
        for line in text.splitlines():
            entry = line.split("#", 1)[0].strip()
            if entry and not found.add(entry):
                found.skipped += 1
    return found


def _read_csv(text: str, found: Indicators) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return
    header = [cell.strip().lower() for cell in rows[0]]
    value_column = next((header.index(name) for name in ("indicator", "value", "ioc") if name in header), None)
    type_column = header.index("type") if "type" in header else None
    if value_column is None:
        value_column, body = 0, rows
    else:
        body = rows[1:]
    for row in body:
        if len(row) <= value_column or row[value_column].strip().startswith("#"):
            continue
        kind = row[type_column].strip().lower() or None if type_column is not None and len(row) > type_column else None
        if not found.add(row[value_column], kind):
            found.skipped += 1


def _read_stix(text: str, path: Path, found: Indicators) -> None:
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleError(f"not a JSON STIX bundle: {exc.msg}", file=str(path), line=exc.lineno) from None
    objects = bundle.get("objects") if isinstance(bundle, dict) else None
    if not isinstance(objects, list):
        raise RuleError("a STIX 2.1 bundle needs an 'objects' list", file=str(path))
    for item in objects:
        if not isinstance(item, dict) or item.get("type") != "indicator" or item.get("revoked"):
            continue
        pattern = item.get("pattern")
        if item.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str) or " AND " in pattern.upper():
            found.skipped += 1
            continue
        comparisons = _STIX.findall(pattern)
        if not comparisons:
            found.skipped += 1
        for object_type, value in comparisons:
            if not found.add(value.replace("\\'", "'"), _STIX_TYPES[object_type]):
                found.skipped += 1


class IndicatorMatcher:
    """Every configured list, checked against the address, domain and URL fields of each event."""

    def __init__(self, lists: Sequence[Indicators]) -> None:
        self.lists = tuple(item for item in lists if item.size)

    def detect(self, events: Sequence[Event]) -> list[Alert]:
        if not self.lists:
            return []
        alerts: list[Alert] = []
        for event in events:
            for indicators in self.lists:
                for kind, name, indicator in self._matches(indicators, event):
                    alerts.append(_alert(indicators.source, event, kind, name, indicator))
        return alerts

    @staticmethod
    def _matches(indicators: Indicators, event: Event) -> list[tuple[str, str, str]]:
        found = []
        for name in IP_FIELDS:
            value = event.get(name)
            if isinstance(value, str) and (hit := indicators.match_ip(value)):
                found.append(("ip", name, hit))
        if indicators.domains:
            for name in DOMAIN_FIELDS:
                value = event.get(name)
                if isinstance(value, str) and (hit := indicators.match_domain(value)):
                    found.append(("domain", name, hit))
        if indicators.urls:
            for candidate, name in _urls(event):
                if candidate in indicators.urls:
                    found.append(("url", name, candidate))
        return found


def _urls(event: Event) -> list[tuple[str, str]]:
    found = [(normalise_url(value), name) for name in URL_FIELDS if isinstance(value := event.get(name), str)]
    domain, target = event.get("url.domain"), event.get("url.original")
    if isinstance(domain, str) and isinstance(target, str):
        found.append((normalise_url(f"{domain}{target}" if target.startswith("/") else target), "url.original"))
    return found


def _alert(source: IndicatorList, event: Event, kind: str, field_name: str, indicator: str) -> Alert:
    event_id = event["event.id"]
    moment = parse_utc(event["@timestamp"])
    system = event.get("service.id")
    entities = {name: str(event[name]) for name in ("source.ip", "user.name", "url.domain")
                if isinstance(event.get(name), str | int) and event.get(name) != ""}
    return Alert(
        id=stable_id(DETECTOR, source.name, indicator, event_id), detector=DETECTOR,
        rule_id=f"indicator:{source.name}", rule_title=f"Indicator match ({source.name})",
        rule_title_vi=source.title_vi or f"Trùng khớp chỉ dấu tấn công ({source.name})",
        severity=source.severity, tags=list(source.tags), agency=event["organization.id"],
        system=str(system) if system is not None else None, entities=entities, first_seen=moment,
        last_seen=moment, count=1, event_ids=[event_id],
        details={"list": source.name, "kind": kind, "indicator": indicator, "field": field_name},
    )
