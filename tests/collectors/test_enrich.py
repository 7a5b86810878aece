"""Normalisation that needs the configuration: X-Forwarded-For believed only from trusted proxies, and the
system of an event resolved, among its agency's own, from the host or server address it names."""

from __future__ import annotations

import ipaddress

from canhgac.collectors.enrich import Enricher
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.raw import RawLine
from canhgac.core.config import Settings
from canhgac.core.directory import Directory

from tests.collectors import fixtures as fx

PROXIES = [ipaddress.ip_network("10.52.0.0/28")]


def decode(settings: Settings, line: str, origin: Origin):  # type: ignore[no-untyped-def]
    enricher = Enricher.of(Directory(settings), PROXIES)
    return LineDecoder(get_parser("nginx"), origin, enricher).decode([RawLine(0, line.encode())])


def test_forwarded_for_is_believed_only_from_trusted_proxies(settings: Settings) -> None:
    origin = Origin("/a", "/a", "binhdinh", "dvc-binhdinh")
    [event], _ = decode(settings, fx.NGINX_MAIN_XFF, origin)  # peer 10.52.0.5 trusted; XFF "100.64.3.7, 10.52.0.4"
    assert event["source.ip"] == "100.64.3.7" and event["client.ip"] == "10.52.0.5"
    spoofed = fx.NGINX_MAIN_XFF.replace("10.52.0.5 -", "203.0.113.9 -", 1)
    [event], _ = decode(settings, spoofed, origin)  # an untrusted peer's header is ignored
    assert event["source.ip"] == "203.0.113.9" and "client.ip" not in event
    chained = fx.NGINX_MAIN_XFF.replace("100.64.3.7, 10.52.0.4", "1.2.3.4, 198.51.100.66, 10.52.0.4")
    [event], _ = decode(settings, chained, origin)  # stop at the first hop we do not trust
    assert event["source.ip"] == "198.51.100.66"


def test_the_system_comes_from_the_host_only_among_the_agency_own(settings: Settings) -> None:
    [event], _ = decode(settings, fx.APACHE_VHOST, Origin("/a", "/a", "binhdinh", None))  # motcua.binhdinh.gov.vn
    assert event["service.id"] == "motcua-binhdinh" and event["organization.id"] == "binhdinh"
    [event], _ = decode(settings, fx.APACHE_VHOST, Origin("/a", "/a", "quynhon", None))
    assert event["organization.id"] == "quynhon" and "service.id" not in event
    events, [letter] = decode(settings, fx.APACHE_VHOST, Origin("/a", "/a", None, None))  # the host never says whose
    assert events == [] and letter.reason.startswith("no agency for this line")
