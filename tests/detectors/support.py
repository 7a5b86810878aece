"""Helpers for the detector tests: inline rules written to a temporary directory, and events."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

from canhgac.detectors.sigma import CompiledRule, load_rules

WEB_LOGSOURCE = "category: webserver"
SSHD_LOGSOURCE = "product: linux\n  service: sshd"


def rule_text(detection: str, *, logsource: str = WEB_LOGSOURCE, level: str | None = "medium",
              rule_id: str | None = None, title: str = "Inline test rule", tags: tuple[str, ...] = ()) -> str:
    """A complete Sigma rule around a ``detection`` block written without its ``detection:`` header."""
    body = textwrap.indent(textwrap.dedent(detection).strip(), "  ")
    lines = [f"title: {title}", f"id: {rule_id or uuid.uuid4()}", "status: test",
             f"logsource:\n  {logsource}", f"detection:\n{body}"]
    if tags:
        lines.append("tags:\n" + "\n".join(f"  - {tag}" for tag in tags))
    if level is not None:
        lines.append(f"level: {level}")
    return "\n".join(lines) + "\n"


def compile_rule(tmp_path: Path, detection: str, **options: Any) -> CompiledRule:
    """Write one inline rule, load it and insist it loads cleanly."""
    path = tmp_path / f"rule_{uuid.uuid4().hex[:8]}.yml"
    path.write_text(rule_text(detection, **options), encoding="utf-8")
    loaded = load_rules([path])
    assert loaded.errors == [], [str(error) for error in loaded.errors]
    assert len(loaded.rules) == 1
    return loaded.rules[0]


_WEB_BASE: dict[str, Any] = {
    "@timestamp": "2025-03-15T02:12:44.000Z",
    "event.id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "event.original": '14.161.22.87 - - [15/Mar/2025:09:12:44 +0700] "GET / HTTP/1.1" 200 5123 "-" "Mozilla/5.0"',
    "event.kind": "event",
    "event.module": "nginx",
    "event.dataset": "nginx.access",
    "event.category": ["web"],
    "event.type": ["access"],
    "event.outcome": "success",
    "event.ingested": "2025-03-15T02:30:00.000Z",
    "organization.id": "binhdinh",
    "service.id": "dvc-binhdinh",
    "source.ip": "14.161.22.87",
    "http.request.method": "GET",
    "http.response.status_code": 200,
    "url.original": "/",
    "url.path": "/",
    "url.domain": "dichvucong.binhdinh.gov.vn",
    "user_agent.original": "Mozilla/5.0",
}

_AUTH_BASE: dict[str, Any] = {
    "@timestamp": "2025-03-15T02:20:11.000Z",
    "event.id": "aa11bb22cc33dd44ee55ff6677889900",
    "event.original": ("Mar 15 09:20:11 dvc-web01 sshd[21833]: Failed password for root from 185.220.101.45 "
                       "port 51122 ssh2"),
    "event.kind": "event",
    "event.module": "system",
    "event.dataset": "system.auth",
    "event.category": ["authentication"],
    "event.type": ["start"],
    "event.action": "ssh_login",
    "event.outcome": "failure",
    "event.ingested": "2025-03-15T02:30:00.000Z",
    "organization.id": "binhdinh",
    "service.id": "dvc-binhdinh",
    "source.ip": "185.220.101.45",
    "user.name": "root",
    "process.name": "sshd",
    "host.hostname": "dvc-web01",
}


#: Use as a field value to remove the field from the base event.
ABSENT: Any = object()


def web_event(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A web access event with ``fields`` overriding the base (``ABSENT`` removes a field)."""
    return _merged(_WEB_BASE, fields)


def auth_event(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return _merged(_AUTH_BASE, fields)


def _merged(base: dict[str, Any], fields: dict[str, Any] | None) -> dict[str, Any]:
    event = dict(base)
    for key, value in (fields or {}).items():
        if value is ABSENT:
            event.pop(key, None)
        else:
            event[key] = value
    return event
