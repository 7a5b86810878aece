"""Who is who: the agency tree (with 2025 mergers) and the monitored systems, built once from settings."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from functools import cached_property

from canhgac.core.config import Agency, MonitoredSystem, Settings
from canhgac.core.errors import NotFound


class Directory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.agencies: dict[str, Agency] = {a.id: a for a in settings.agencies}
        self.systems: dict[str, MonitoredSystem] = {s.id: s for s in settings.systems}
        self._children: dict[str, list[str]] = defaultdict(list)
        for agency in settings.agencies:
            # A merged agency rolls up to its successor: whoever sees the new province sees the old one.
            up = agency.merged_into or agency.parent
            if up is not None:
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
