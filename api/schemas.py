"""Response bodies, kept apart from the storage models so the API can add names and hide internals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from canhgac.config import AgencyLevel, Role
from canhgac.directory import Directory
from canhgac.model import Alert, AuditEntry, Incident, IncidentState, Resolution, Severity


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


class Me(BaseModel):
    name: str
    role: Role
    sees_all: bool
    agency: str | None
    agency_name_vi: str | None
    agency_name_en: str | None
    scope: list[str] | None = Field(description="Agency ids the caller sees; null means every agency")


class IncidentOut(BaseModel):
    id: str
    agency: str
    agency_name_vi: str
    agency_name_en: str
    system: str | None
    system_name: str | None
    title: str
    severity: Severity
    state: IncidentState
    resolution: Resolution | None
    assignee: str | None
    rule_id: str
    tags: list[str]
    entities: dict[str, str]
    alert_ids: list[str]
    alert_count: int
    first_seen: datetime
    last_seen: datetime
    created: datetime
    updated: datetime
    version: str | None = Field(description="Optimistic-concurrency token; also the ETag of the incident")

    @classmethod
    def of(cls, incident: Incident, directory: Directory) -> IncidentOut:
        agency = directory.agencies.get(incident.agency)
        system = directory.systems.get(incident.system) if incident.system else None
        fields = incident.model_dump(exclude={"fingerprint"})
        return cls(**fields, agency_name_vi=agency.name_vi if agency else incident.agency,
                   agency_name_en=agency.name_en if agency else incident.agency,
                   system_name=system.name if system else None)


class AlertOut(BaseModel):
    id: str
    detector: str
    rule_id: str
    rule_title: str
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


class IncidentDetail(IncidentOut):
    alerts: list[AlertOut] = Field(description="The incident's alerts still held by the store")
    audit: list[AuditEntryOut] = Field(description="The audit trail, oldest first")
