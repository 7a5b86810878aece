"""FortiGate (FortiOS) key=value logs, as sent by syslog (``<189>date=… time=… devname="…" …``) or saved to
files. Known keys become ECS fields; the others are kept under ``fortinet.firewall.*``."""

from __future__ import annotations

import re
from typing import Any

from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fields import is_ip
from canhgac.collectors.parsers.times import Times
from canhgac.core.errors import ParseError

PAIR = re.compile(r'([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_PRI = re.compile(r"<\d{1,3}>")
PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "58": "ipv6-icmp", "132": "sctp"}
DENIED = frozenset({"deny", "blocked", "block", "dropped", "drop", "reset", "server-rst", "client-rst", "timeout",
                    "ip-conn", "close-by-policy"})
ALLOWED = frozenset({"accept", "allow", "allowed", "passthrough", "pass", "close", "start", "monitored"})
RENAMES = {
    "srcip": "source.ip", "dstip": "destination.ip", "srcport": "source.port", "dstport": "destination.port",
    "srcintf": "observer.ingress.interface.name", "dstintf": "observer.egress.interface.name",
    "devname": "observer.name", "devid": "observer.serial_number", "policyid": "rule.id",
    "policyname": "rule.name", "sentbyte": "source.bytes", "rcvdbyte": "destination.bytes",
    "sentpkt": "source.packets", "rcvdpkt": "destination.packets", "srccountry": "source.geo.country_name",
    "dstcountry": "destination.geo.country_name", "user": "user.name", "srcuser": "source.user.name",
    "logid": "event.code",
    "service": "network.protocol", "hostname": "url.domain", "url": "url.original", "msg": "message",
    "attack": "rule.name", "attackid": "rule.id", "level": "log.level", "duration": "fortinet.firewall.duration",
}
NUMBERS = frozenset({"source.port", "destination.port", "source.bytes", "destination.bytes", "source.packets",
                     "destination.packets"})
STATIC = {"event.kind": "event", "event.module": "fortinet", "event.dataset": "fortinet.firewall",
          "observer.vendor": "Fortinet", "observer.product": "FortiGate", "observer.type": "firewall"}


def is_fortigate(message: str) -> bool:
    return message.startswith("date=") or ("logid=" in message and "devid=" in message)


def fortigate_fields(message: str, fields: dict[str, Any], times: Times) -> None:
    pairs: dict[str, str] = {}
    for key, value in PAIR.findall(message):
        pairs[key] = value[1:-1].replace('\\"', '"') if value.startswith('"') and len(value) > 1 else value
    if "date" not in pairs or "time" not in pairs:
        raise ParseError("a FortiGate log needs date= and time=")
    fields.update(STATIC)
    fields["@timestamp"] = _timestamp(pairs, times)
    log_type = pairs.get("type", "")
    fields["event.category"] = ["network"] if log_type in ("traffic", "") else ["network", "intrusion_detection"] \
        if log_type == "utm" else ["network", "configuration"] if log_type == "event" else ["network"]
    action = pairs.get("action", "")
    kinds = ["connection"]
    if action in DENIED:
        kinds.append("denied")
        fields["event.outcome"] = "failure"
    elif action in ALLOWED:
        kinds.append("allowed")
        fields["event.outcome"] = "success"
    fields["event.type"] = kinds
    if action:
        fields["event.action"] = action
    if pairs.get("proto") in PROTOCOLS:
        fields["network.transport"] = PROTOCOLS[pairs["proto"]]
    for key, value in pairs.items():
        if key in ("date", "time", "tz", "eventtime", "action", "proto") or value in ("", "N/A"):
            continue
        name = RENAMES.get(key)
        if name is None:
            fields[f"fortinet.firewall.{key}"] = value
        elif name in NUMBERS:
            if value.isdigit():
                fields[name] = int(value)
        elif name.endswith(".ip") and not is_ip(value):
            fields[name[:-3] + ".address"] = value
        else:
            fields[name] = value


def _timestamp(pairs: dict[str, str], times: Times) -> str:
    eventtime = pairs.get("eventtime", "")
    try:
        if eventtime.isdigit() and len(eventtime) >= 10:
            unit = {10: "s", 13: "ms", 16: "us", 19: "ns"}.get(len(eventtime))
            if unit is not None:
                return times.epoch(int(eventtime), unit)
        date, clock = pairs["date"], pairs["time"]
        offset = pairs.get("tz", "")
        return times.parts(date[0:4], date[5:7], date[8:10], clock, offset=offset)
    except ValueError as exc:
        raise ParseError(str(exc)) from None


class FortigateParser:
    format = "fortigate"

    def __init__(self, options: ParserOptions | None = None) -> None:
        self.times = Times((options or ParserOptions()).times_zone)
        self.static_fields: dict[str, Any] = dict(STATIC)

    def parse(self, line: str) -> dict[str, Any]:
        start = line.find("date=")
        if start < 0 or (start > 0 and line[start - 1] not in " >"):
            raise ParseError("not a FortiGate log line (no date=)")
        header = line[:start].strip()
        fields: dict[str, Any] = {}
        fortigate_fields(line[start:], fields, self.times)
        pri = _PRI.match(header)
        if pri is not None:
            fields["log.syslog.priority"] = int(header[1:pri.end() - 1])
        return fields
