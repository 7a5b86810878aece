"""Who is who: the agency tree (with 2025 mergers) and the monitored systems, built once from settings.

A dissolved unit hangs under two agencies: its old parent (so a key of the old district still sees the old
wards) and its successor (so whoever sees the new province sees the old one). Ranking follows one line up
instead: successor first, else parent (``owner_at``).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from functools import cached_property

from canhgac.core.config import Agency, AgencyLevel, MonitoredSystem, Settings
from canhgac.core.errors import NotFound


class Directory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.agencies: dict[str, Agency] = {a.id: a for a in settings.agencies}
        self.systems: dict[str, MonitoredSystem] = {s.id: s for s in settings.systems}
        self._children: dict[str, list[str]] = defaultdict(list)
        for agency in settings.agencies:
            for up in dict.fromkeys(t for t in (agency.parent, agency.merged_into) if t is not None):
                self._children[up].append(agency.id)
        self._by_host = {h.lower(): s for s in settings.systems for h in s.hostnames}
        self._ranges = [(net, s) for s in settings.systems for net in s.ip_ranges]
        self._subtrees: dict[str, frozenset[str]] = {}

    def agency(self, agency_id: str) -> Agency:
        try:
            return self.agencies[agency_id]
        except KeyError:
            raise NotFound(f"unknown agency {agency_id!r}") from None

    def subtree(self, agency_id: str) -> frozenset[str]:
        """The agency and every agency below it (including agencies merged into it)."""
        cached = self._subtrees.get(agency_id)
        if cached is not None:
            return cached
        self.agency(agency_id)
        found = {agency_id}
        stack = [agency_id]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        result = frozenset(found)
        self._subtrees[agency_id] = result
        return result

    def successor(self, agency_id: str) -> Agency:
        """The unit that exists now in place of ``agency_id`` (itself while current), along ``merged_into``."""
        agency = self.agency(agency_id)
        seen = {agency.id}
        while agency.merged_into is not None and agency.merged_into not in seen:
            agency = self.agency(agency.merged_into)
            seen.add(agency.id)
        return agency

    def owner_at(self, agency_id: str, level: AgencyLevel) -> str | None:
        """The current agency of ``level`` that ``agency_id``'s incidents count for, if any.

        Up one line: a dissolved unit's successor, else its parent. A dissolved district (merged into the
        province) has no owner among the wards; its old wards do, through their successors.
        """
        node: str | None = agency_id
        seen: set[str] = set()
        while node is not None and node not in seen and node in self.agencies:
            seen.add(node)
            agency = self.agencies[node]
            if agency.level is level and agency.is_current:
                return agency.id
            node = agency.merged_into or agency.parent
        return None

    def system(self, system_id: str) -> MonitoredSystem:
        try:
            return self.systems[system_id]
        except KeyError:
            raise NotFound(f"unknown system {system_id!r}") from None

    def system_for_host(self, host: str) -> MonitoredSystem | None:
        return self._by_host.get(host.lower().split(":", 1)[0])

    def system_for_ip(self, address: str) -> MonitoredSystem | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for network, system in self._ranges:
            if ip in network:
                return system
        return None

    @cached_property
    def roots(self) -> list[str]:
        return [a.id for a in self.settings.agencies if (a.merged_into or a.parent) is None]

    def children(self, agency_id: str) -> list[str]:
        return list(self._children.get(agency_id, ()))
