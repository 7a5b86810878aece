"""Configuration of collection (the ``collection:`` block): network inputs (syslog), HTTP push, the spool,
trusted proxies, tailing, and generic JSON mappings. Per-system log sources are in ``systems[].log_sources``."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from canhgac.core.config_base import StrictModel
from pydantic import Field, model_validator

Port = Annotated[int, Field(ge=0, le=65535, description="0 picks a free port")]


class SyslogInput(StrictModel):
    """A syslog listener (RFC 3164 and RFC 5424; TCP with octet-counting or newline framing, RFC 6587).
    Each sender is mapped to a monitored system by its address (``systems[].ip_ranges``), by a syslog
    ``log_sources`` entry naming it, or by the host name in the message."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = "syslog"
    host: str = Field("127.0.0.1", description="address to listen on; 0.0.0.0 for every interface")
    udp_port: Port | None = 5514
    tcp_port: Port | None = 5514
    relp_port: Port | None = Field(None, description="RELP (rsyslog omrelp): each message acknowledged once stored")
    format: str = Field("syslog", description="parser of each message's body, after the syslog header (nginx, "
                                              "fortigate, a JSON mapping…); syslog: by the program that sent it")
    timezone: str | None = Field(None, description="zone of RFC 3164 times; default: the top-level timezone")
    default_agency: str | None = Field(None, description="agency of senders no system claims; without it, "
                                                         "their messages are dead letters")
    max_message_bytes: Annotated[int, Field(ge=1024, le=1 << 20)] = 64 * 1024
    udp_receive_buffer: Annotated[int, Field(ge=65536)] = 4 << 20
    max_connections: Annotated[int, Field(ge=1)] = 256

    @model_validator(mode="after")
    def _needs_a_port(self) -> SyslogInput:
        if self.udp_port is None and self.tcp_port is None and self.relp_port is None:
            raise ValueError("set udp_port, tcp_port or relp_port (or several)")
        return self


class SpoolSettings(StrictModel):
    """Where batches wait, on disk, while the store is down; bounded, replayed in order."""

    directory: str = Field("spool", description="relative paths are taken under CANHGAC_HOME")
    max_bytes: Annotated[int, Field(ge=1 << 20)] = 256 << 20
    segment_bytes: Annotated[int, Field(ge=1 << 16)] = 16 << 20
    fsync: bool = Field(True, description="fsync each spooled batch (survives a power cut, costs a disk flush)")


class PushRateLimit(StrictModel):
    """Token buckets per push token (per ``type: http`` log source): requests, and lines. Over budget → 429 with
    ``Retry-After``; the refused request stores nothing, and shippers resend it."""

    requests_per_second: Annotated[float, Field(gt=0)] = 100.0
    request_burst: Annotated[int, Field(ge=1)] = 500
    lines_per_second: Annotated[float, Field(gt=0)] = 20_000.0
    line_burst: Annotated[int, Field(ge=1, description="at least max_lines, or a full request never passes")] = 200_000


class HttpInput(StrictModel):
    """``POST /api/v1/ingest`` and the Elasticsearch-compatible ``/api/v1/ingest/es/_bulk``. A request over a size
    limit is refused whole (413) before anything of it is stored; the shipper has to send smaller batches."""

    enabled: bool = True
    max_body_bytes: Annotated[int, Field(ge=1024, description="as sent (compressed or not)")] = 32 << 20
    max_uncompressed_bytes: Annotated[int, Field(ge=1024, description="after Content-Encoding")] = 32 << 20
    max_lines: Annotated[int, Field(ge=1, description="per request; a _bulk action and its document are two")] = 100_000
    max_dead_letters: Annotated[int, Field(ge=0, description=(
        "kept one by one per request; the rest are counted in one summary dead letter"))] = 100
    max_bulk_items: Annotated[int, Field(ge=1, description=(
        "items listed in a _bulk answer; the rest are counted in items_not_listed"))] = 1000
    rate_limit: PushRateLimit = PushRateLimit()

    @model_validator(mode="after")
    def _burst_holds_a_request(self) -> HttpInput:
        if self.rate_limit.line_burst < self.max_lines:
            raise ValueError(f"rate_limit.line_burst ({self.rate_limit.line_burst}) must be at least max_lines "
                             f"({self.max_lines}), or a request of max_lines lines is never accepted")
        return self


class TailSettings(StrictModel):
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.25
    batch_lines: Annotated[int, Field(ge=1, le=100_000)] = 2000


class CollectionSettings(StrictModel):
    trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=list, description="reverse proxies and load balancers whose X-Forwarded-For is believed")
    syslog: list[SyslogInput] = Field(default_factory=list)
    http: HttpInput = HttpInput()
    spool: SpoolSettings = SpoolSettings()
    tail: TailSettings = TailSettings()
    json_mappings: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")], str] = Field(
        default_factory=dict, description="format name → YAML field mapping file (collectors/mappings/README.md)")
    status_interval_seconds: Annotated[float, Field(gt=0)] = 5.0


def collection_reference_problems(collection: CollectionSettings, agency_ids: set[str],
                                  http_names: list[tuple[int, int, str]]) -> list[tuple[tuple[object, ...], str]]:
    """Names that must exist or be unique: listener agencies, listener names and ports, push source names
    (``http_names``: system index, source index, name)."""
    problems: list[tuple[tuple[object, ...], str]] = []
    names: set[str] = set()
    for index, listener in enumerate(collection.syslog):
        if listener.default_agency is not None and listener.default_agency not in agency_ids:
            problems.append((("collection", "syslog", index, "default_agency"),
                             f"unknown agency {listener.default_agency!r}"))
        if listener.name in names:
            problems.append((("collection", "syslog", index, "name"), f"duplicate listener name {listener.name!r}"))
        names.add(listener.name)
    seen: set[str] = set()
    for system_index, source_index, name in http_names:
        if name in seen:
            problems.append((("systems", system_index, "log_sources", source_index, "name"),
                             f"duplicate http source name {name!r}"))
        seen.add(name)
    return problems
