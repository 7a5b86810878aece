"""What one entity did in one hour, read from its stored events: the counts the baselines learn from.

An *entity* is an official (``user.name`` within an agency, from the one-stop and e-office audit logs) or an
API client (calling system and account, from the data-sharing gateway log). See
docs/decisions/0045-behaviour-baselines.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from canhgac.core.model import Event

OFFICIAL_DATASETS = ("onestop.audit", "eoffice.audit")
CLIENT_DATASETS = ("gateway.access",)
DATASETS = OFFICIAL_DATASETS + CLIENT_DATASETS

#: event.action → the counter it adds its records to.
ACTION_FEATURES = {"dossier-view": "views", "dossier-download": "downloads", "dossier-print": "prints",
                   "dossier-export": "exports", "document-opened": "views", "document-downloaded": "downloads"}
OFFICIAL_FEATURES = ("views", "downloads", "prints", "exports", "records", "outside_unit", "outside_procedure",
                     "sequential", "actions")
CLIENT_FEATURES = ("calls", "records", "bytes", "records_per_call", "distinct_apis")
EVIDENCE_LIMIT = 20
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True, order=True)
class EntityKey:
    agency: str
    kind: str  # official | client
    id: str  # user.name, or "system/account" for a client

    @property
    def text(self) -> str:
        return f"{self.agency}|{self.kind}|{self.id}"

    @classmethod
    def parse(cls, text: str) -> EntityKey:
        agency, kind, entity_id = text.split("|", 2)
        return cls(agency, kind, entity_id)


@dataclass
class EntityHour:
    """One entity's activity in one hour. ``counts`` holds the features; the sets are compared with the
    entity's baseline when scored (a network or a procedure is only *new* against what the entity used)."""

    key: EntityKey
    start: datetime
    counts: dict[str, float] = field(default_factory=dict)
    networks: Counter[str] = field(default_factory=Counter)
    devices: Counter[str] = field(default_factory=Counter)
    procedures: Counter[str] = field(default_factory=Counter)
    apis: Counter[str] = field(default_factory=Counter)
    profile: dict[str, str] = field(default_factory=dict)
    #: (weight, event id) of the events carrying the most records, per feature, for the evidence list.
    evidence: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    record_ids: set[str] = field(default_factory=set)

    def add_evidence(self, feature: str, weight: float, event_id: str) -> None:
        kept = self.evidence.setdefault(feature, [])
        kept.append((weight, event_id))
        if len(kept) > 4 * EVIDENCE_LIMIT:
            kept.sort(key=lambda item: (-item[0], item[1]))
            del kept[EVIDENCE_LIMIT:]

    def evidence_for(self, feature: str) -> list[str]:
        kept = sorted(self.evidence.get(feature) or self.evidence.get("all", []), key=lambda i: (-i[0], i[1]))
        return [event_id for _, event_id in kept[:EVIDENCE_LIMIT]]


def network_of(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to: what "the same network" means for an office."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def device_of(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    return hashlib.blake2b(user_agent.encode(), digest_size=6).hexdigest()


def entity_of(event: Event) -> EntityKey | None:
    agency = event.get("organization.id")
    dataset = event.get("event.dataset")
    if not agency:
        return None
    if dataset in OFFICIAL_DATASETS:
        user = event.get("user.name")
        return EntityKey(agency, "official", str(user)) if user else None
    if dataset in CLIENT_DATASETS:
        system, account = event.get("egov.caller.system"), event.get("user.name")
        if not system and not account:
            return None
        return EntityKey(agency, "client", f"{system or '-'}/{account or '-'}")
    return None


def _records(event: Event) -> list[str]:
    """The citizens' dossiers (one-stop) or the documents (e-office) one event touched."""
    ids = event.get("egov.record.ids")
    if isinstance(ids, str):
        return [ids]
    if isinstance(ids, list):
        return [str(i) for i in ids]
    document = event.get("egov.document.id")
    return [f"doc:{document}"] if document else []


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def sequential_count(record_ids: Iterable[str]) -> int:
    """Records whose id is the next number after another record's id of the same prefix (a walk through
    consecutive dossier numbers counts every step)."""
    by_prefix: dict[str, set[int]] = {}
    for record_id in record_ids:
        match = _TRAILING_NUMBER.match(record_id)
        if match and len(match.group(2)) <= 12:
            by_prefix.setdefault(match.group(1), set()).add(int(match.group(2)))
    return sum(1 for numbers in by_prefix.values() for n in numbers if n - 1 in numbers)


def _add_official(hour: EntityHour, event: Event) -> None:
    counts = hour.counts
    counts["actions"] = counts.get("actions", 0) + 1
    records = _records(event)
    amount = _int(event.get("egov.record.count")) or len(records) or 1
    feature = ACTION_FEATURES.get(str(event.get("event.action")))
    event_id = str(event.get("event.id"))
    if feature is not None and event.get("event.outcome") != "failure":
        counts[feature] = counts.get(feature, 0) + amount
        hour.add_evidence(feature, amount, event_id)
        hour.record_ids.update(records)
        own_unit, record_unit = event.get("egov.unit.id"), event.get("egov.record.unit")
        if own_unit and record_unit and record_unit != own_unit:
            counts["outside_unit"] = counts.get("outside_unit", 0) + amount
            hour.add_evidence("outside_unit", amount, event_id)
        procedure = event.get("egov.procedure.id")
        if procedure:
            hour.procedures[str(procedure)] += amount
    hour.add_evidence("all", amount, event_id)
    for name in ("user.full_name", "egov.unit.id", "url.domain"):
        if event.get(name) and name not in hour.profile:
            hour.profile[name] = str(event[name])
    roles = event.get("user.roles")
    if roles and "user.roles" not in hour.profile:
        hour.profile["user.roles"] = str(roles[0] if isinstance(roles, list) else roles)


def _add_client(hour: EntityHour, event: Event) -> None:
    counts = hour.counts
    counts["calls"] = counts.get("calls", 0) + 1
    records = _int(event.get("egov.record.count"))
    counts["records"] = counts.get("records", 0) + records
    counts["bytes"] = counts.get("bytes", 0) + _int(event.get("http.response.body.bytes"))
    api = event.get("egov.api.name")
    if api:
        hour.apis[str(api)] += 1
    hour.add_evidence("records", records, str(event.get("event.id")))
    hour.add_evidence("all", 1, str(event.get("event.id")))
    for name in ("egov.caller.system", "egov.caller.unit"):
        if event.get(name) and name not in hour.profile:
            hour.profile[name] = str(event[name])


def hour_features(events: Iterable[Event], start: datetime) -> dict[EntityKey, EntityHour]:
    """Every entity's activity in the hour beginning at ``start``, from that hour's events."""
    hours: dict[EntityKey, EntityHour] = {}
    for event in events:
        key = entity_of(event)
        if key is None:
            continue
        hour = hours.get(key)
        if hour is None:
            hour = hours[key] = EntityHour(key, start)
        network = network_of(event.get("source.ip"))
        if network:
            hour.networks[network] += 1
        device = device_of(event.get("user_agent.original"))
        if device:
            hour.devices[device] += 1
        (_add_official if key.kind == "official" else _add_client)(hour, event)
    for hour in hours.values():
        if hour.key.kind == "official":
            hour.counts["records"] = float(len(hour.record_ids))
            hour.counts["sequential"] = float(sequential_count(hour.record_ids))
        else:
            calls = hour.counts.get("calls", 0)
            hour.counts["records_per_call"] = round(hour.counts.get("records", 0) / calls, 3) if calls else 0.0
            hour.counts["distinct_apis"] = float(len(hour.apis))
            if hour.apis:
                hour.profile["main_api"] = min(hour.apis, key=lambda name: (-hour.apis[name], name))
    return hours
