"""Response bodies, kept apart from the storage models so the API can add names and hide internals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from canhgac.core.config import AgencyLevel, MonitoredSystem, Role, SystemKind
from canhgac.core.model import Alert, AuditEntry, Severity
from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = "ok"
    store: str


class AgencyOut(BaseModel):
    id: str
    code: str
    name_vi: str
    name_en: str
    level: AgencyLevel
    parent: str | None
    merged_into: str | None
    dissolved: date | None = Field(description="First day the unit no longer existed (2025 reforms)")
    current: bool = Field(description="Still exists: neither merged nor dissolved")
    successor: str | None = Field(description="The unit that exists now in its place, after every merger")
    successor_name_vi: str | None
    successor_name_en: str | None


class SystemOut(BaseModel):
    id: str
    name: str
    agency: str
    kind: SystemKind
    security_level: int = Field(description="Decree 85/2016 level, 1–5")
    hostnames: list[str]
    ip_ranges: list[str]

    @classmethod
    def of(cls, system: MonitoredSystem) -> SystemOut:
        return cls(id=system.id, name=system.name, agency=system.agency, kind=system.kind,
                   security_level=system.security_level, hostnames=list(system.hostnames),
                   ip_ranges=[str(n) for n in system.ip_ranges])


class Me(BaseModel):
    name: str
    role: Role
    sees_all: bool
    agency: str | None
    agency_name_vi: str | None
    agency_name_en: str | None
    scope: list[str] | None = Field(description="Agency ids the caller sees; null means every agency")


class AlertOut(BaseModel):
    id: str
    detector: str
    rule_id: str
    rule_title: str
    rule_title_vi: str | None = None
    severity: Severity
    tags: list[str]
    agency: str
    system: str | None
    entities: dict[str, str]
    first_seen: datetime
    last_seen: datetime
    count: int
    event_ids: list[str]
    details: dict[str, Any]
    created: datetime

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(**alert.model_dump())


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    agency: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(**entry.model_dump())
