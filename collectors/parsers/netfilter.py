"""Linux netfilter (iptables/nftables ``LOG`` target, UFW) kernel messages: ``[UFW BLOCK] IN=eth0 OUT= …
SRC=203.0.113.5 DST=10.52.0.10 … PROTO=TCP SPT=51234 DPT=22 …``."""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.fields import is_ip

_PAIR = re.compile(r"([A-Z]+)=(\S*)")
_UPTIME = re.compile(r"\[\s*\d+\.\d+\]\s*")
_DENY = ("BLOCK", "DROP", "DENY", "REJECT")
_ALLOW = ("ACCEPT", "ALLOW", "PASS")


def is_netfilter(message: str) -> bool:
    return " SRC=" in message and "IN=" in message and " DST=" in message


def netfilter_fields(message: str, fields: dict[str, Any]) -> None:
    start = message.find("IN=")
    prefix = _UPTIME.sub("", message[:start]).strip()
    pairs = dict(_PAIR.findall(message[start:]))
    fields.update({"event.category": ["network"], "event.kind": "event", "event.module": "iptables",
                   "event.dataset": "iptables.log", "observer.type": "firewall"})
    kinds = ["connection"]
    upper = prefix.upper()
    if any(word in upper for word in _DENY):
        kinds.append("denied")
        fields["event.outcome"] = "failure"
        fields["event.action"] = "drop"
    elif any(word in upper for word in _ALLOW):
        kinds.append("allowed")
        fields["event.outcome"] = "success"
        fields["event.action"] = "accept"
    fields["event.type"] = kinds
    if prefix:
        fields["rule.name"] = prefix.strip("[]: ")
    for key, name in (("SRC", "source"), ("DST", "destination")):
        address = pairs.get(key, "")
        if address:
            fields[f"{name}.ip" if is_ip(address) else f"{name}.address"] = address
    for key, name in (("SPT", "source.port"), ("DPT", "destination.port"), ("LEN", "network.bytes"),
                      ("TTL", "iptables.ttl")):
        value = pairs.get(key, "")
        if value.isdigit():
            fields[name] = int(value)
    for key, name in (("IN", "observer.ingress.interface.name"), ("OUT", "observer.egress.interface.name"),
                      ("PROTO", "network.transport")):
        value = pairs.get(key, "")
        if value:
            fields[name] = value.lower() if key == "PROTO" else value
    if pairs.get("MAC"):
        fields["iptables.mac"] = pairs["MAC"]
