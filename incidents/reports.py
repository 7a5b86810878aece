"""Report drafts: the incident notice of Circular 20/2017/TT-BTTTT and the personal-data breach notice of
Decree 356/2025/NĐ-CP (Art. 28), filled from the incident, the directory and the configuration. Analysts
complete the free-text parts on the incident (description, handling result, recommendations, breach)."""

from __future__ import annotations

from datetime import datetime

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import FilingKind, Incident, ObservableType
from canhgac.incidents.clocks import due_for_filing
from canhgac.incidents.serious import assess
from pydantic import BaseModel


class Reporter(BaseModel):
    organization: str
    name: str
    phone: str
    email: str


class SystemPart(BaseModel):
    id: str | None
    name: str
    security_level: int | None
    domains: list[str]
    ip_addresses: list[str]
    owner: str
    operator: str


class IncidentNotice(BaseModel):
    form: str = "Thông báo sự cố — Thông tư 20/2017/TT-BTTTT"
    number: str
    recipient: str
    reporter: Reporter
    system: SystemPart
    title: str
    description: str
    categories: list[str]
    severity: str
    serious: bool
    occurred_at: datetime
    detected_at: datetime
    reported_at: datetime
    deadline: datetime
    attack_sources: list[str]
    attack_techniques: list[str]
    handling_result: str
    recommendations: str


class BreachNature(BaseModel):
    occurred_at: datetime | None
    place: str
    act: str
    data_types: list[str]
    records_affected: int | None
    data_subjects_affected: int | None


class BreachNotice(BaseModel):
    form: str = "Thông báo vi phạm dữ liệu cá nhân — Nghị định 356/2025/NĐ-CP, Điều 28"
    number: str
    controller: str
    nature: BreachNature
    contact: str
    consequences: str
    mitigation: str
    detected_at: datetime
    reported_at: datetime
    deadline: datetime


def _reporter(settings: Settings) -> Reporter:
    r = settings.incidents.reporting.reporter
    return Reporter(organization=r.organization, name=r.name, phone=r.phone, email=r.email)


def incident_notice(incident: Incident, directory: Directory, now: datetime) -> IncidentNotice:
    settings = directory.settings
    agency = directory.agencies.get(incident.agency)
    owner = agency.name_vi if agency else incident.agency
    system = directory.systems.get(incident.system) if incident.system else None
    operators = settings.incidents.reporting.operators
    part = SystemPart(id=system.id if system else None, name=system.name if system else "—",
                      security_level=system.security_level if system else None,
                      domains=list(system.hostnames) if system else [],
                      ip_addresses=[str(n) for n in system.ip_ranges] if system else [], owner=owner,
                      operator=operators.get(system.id, owner) if system else owner)
    sources = sorted({o.value for o in incident.observables if o.type is ObservableType.ip})
    return IncidentNotice(
        number=incident.id, recipient=settings.incidents.reporting.recipient, reporter=_reporter(settings),
        system=part, title=incident.title, description=incident.description or incident.title,
        categories=[c.value for c in incident.categories], severity=incident.severity.value,
        serious=assess(incident, directory, settings).serious, occurred_at=incident.first_seen,
        detected_at=incident.detected, reported_at=now,
        deadline=due_for_filing(incident, settings, FilingKind.incident_notice), attack_sources=sources,
        attack_techniques=incident.attack_techniques, handling_result=incident.handling_result,
        recommendations=incident.recommendations)


def breach_notice(incident: Incident, directory: Directory, now: datetime) -> BreachNotice:
    settings = directory.settings
    agency = directory.agencies.get(incident.agency)
    breach = incident.breach
    reporter = settings.incidents.reporting.reporter
    contact = (breach.contact if breach and breach.contact else
               ", ".join(p for p in (reporter.name, reporter.phone, reporter.email) if p))
    return BreachNotice(
        number=incident.id, controller=agency.name_vi if agency else incident.agency,
        nature=BreachNature(occurred_at=breach.occurred_at if breach else incident.first_seen,
                            place=breach.place if breach else "", act=breach.act if breach else incident.title,
                            data_types=list(breach.data_types) if breach else [],
                            records_affected=breach.records_affected if breach else None,
                            data_subjects_affected=breach.data_subjects_affected if breach else None),
        contact=contact, consequences=breach.consequences if breach else "",
        mitigation=breach.mitigation if breach else incident.handling_result,
        detected_at=incident.detected, reported_at=now,
        deadline=due_for_filing(incident, settings, FilingKind.breach_notice))
