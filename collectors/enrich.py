"""Normalisation that needs the configuration: the real client behind trusted proxies, and which system of
the event's agency a line names when the source alone does not say.

What a line names (its host name, its server address) is written by whoever sent it, so it may pick a
system only among those of the agency the source already belongs to; it never chooses the agency."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from canhgac.core.model import Event

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SystemLookup = Callable[[str], Any]  # returns a MonitoredSystem (``.id``, ``.agency``) or None


class Enricher:
    def __init__(self, trusted_proxies: Sequence[IPNetwork] = (), *, system_for_host: SystemLookup | None = None,
                 system_for_ip: SystemLookup | None = None) -> None:
        self.trusted_proxies = list(trusted_proxies)
        self.system_for_host = system_for_host
        self.system_for_ip = system_for_ip
        self._trusted: dict[str, bool] = {}

    @classmethod
    def of(cls, directory: Any, trusted_proxies: Sequence[IPNetwork] = ()) -> Enricher:
        """From a ``canhgac.core.directory.Directory``."""
        return cls(trusted_proxies, system_for_host=directory.system_for_host, system_for_ip=directory.system_for_ip)

    def is_trusted(self, address: str) -> bool:
        known = self._trusted.get(address)
        if known is None:
            try:
                ip = ipaddress.ip_address(address)
                known = any(ip in network for network in self.trusted_proxies)
            except ValueError:
                known = False
            if len(self._trusted) > 65536:
                self._trusted.clear()
            self._trusted[address] = known
        return known

    def forwarded(self, event: Event) -> None:
        """X-Forwarded-For is believed only as far as it was written by proxies we trust: walk it from the
        right (the hop nearest to us) and stop at the first address that is not a trusted proxy."""
        peer = event.get("source.ip")
        header = event.get("http.request.forwarded_for")
        if not self.trusted_proxies or not peer or not header or not self.is_trusted(peer):
            return
        client = None
        for hop in reversed(header.split(",")):
            hop = hop.strip()
            if hop.startswith("[") and "]" in hop:  # [2001:db8::1]:443
                hop = hop[1:hop.index("]")]
            elif hop.count(":") == 1:  # 203.0.113.5:51234
                hop = hop.split(":")[0]
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            client = hop
            if not self.is_trusted(hop):
                break
        if client is not None and client != peer:
            event["client.ip"] = peer
            event["source.ip"] = client

    def resolve(self, event: Event, agency: str) -> Any:
        """The monitored system of ``agency`` that the event names through its host name or server address,
        if any; a system of any other agency (even one below it) is not attached."""
        for name in ("url.domain", "host.hostname"):
            host = event.get(name)
            if host and self.system_for_host is not None:
                system = self.system_for_host(host)
                if system is not None and system.agency == agency:
                    return system
        for name in ("destination.ip", "host.ip"):
            address = event.get(name)
            if address and self.system_for_ip is not None:
                system = self.system_for_ip(address)
                if system is not None and system.agency == agency:
                    return system
        return None
