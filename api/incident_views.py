"""Incidents as the API shows them: names added, the serious flag and the clocks computed for *now*."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import orjson
from canhgac.api.rule_catalog import AttackRefs, RuleOut
from canhgac.api.schemas import AlertOut, AuditEntryOut
from canhgac.api.summary_cache import CachedSummary, SummaryCache, running_clocks
from canhgac.core.attack import attack_refs
from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import (
    BreachDetails,
    Comment,
    Filing,
    Incident,
    IncidentCategory,
    IncidentState,
    Observable,
    Resolution,
    RuleHit,
    SeriousOverride,
    Severity,
    StateChange,
    Task,
)
from canhgac.incidents.clocks import Clock, ClockKind, ClockStatus, clocks, time_to_acknowledge, time_to_resolve
from canhgac.incidents.serious import SeriousAssessment, assess
from fastapi import Depends, Request
from pydantic import BaseModel, Field


class ClockOut(BaseModel):
    kind: ClockKind
    due: datetime
    done_at: datetime | None
    status: ClockStatus
    overdue: bool


class SeriousOut(BaseModel):
    serious: bool = Field(description="What counts: the override when there is one, else the computed value")
    computed: bool
    security_level: int | None = Field(description="Of the incident's system (Decree 85/2016)")
    matching_categories: list[str]
    override: SeriousOverride | None


class IncidentOut(BaseModel):
    id: str
    agency: str
    agency_name_vi: str
    agency_name_en: str
    system: str | None
    system_name: str | None
    title: str
    title_en: str | None = Field(None, description="English title, when the rule has one apart from the Vietnamese")
    severity: Severity
    state: IncidentState
    resolution: Resolution | None
    assignee: str | None
    rule_id: str = Field(description="The rule that opened the incident")
    rules: list[RuleHit] = Field(description="Every rule that joined the incident, with its alert and event counts")
    tags: list[str]
    entities: dict[str, str]
    alert_ids: list[str]
    alert_count: int
    first_seen: datetime
    last_seen: datetime
    detected_at: datetime = Field(description="When it was detected; the legal clocks start here")
    created: datetime
    updated: datetime
    serious: bool
    overdue: list[ClockKind] = Field(description="Clocks past their deadline with nothing done")
    merged_into: str | None
    version: str | None = Field(description="Optimistic-concurrency token; also the ETag of the incident")


class IncidentView(IncidentOut):
    description: str
    categories: list[IncidentCategory]
    attack_tactics: list[str]
    attack_techniques: list[str]
    serious_assessment: SeriousOut
    clocks: list[ClockOut]
    time_to_acknowledge_seconds: float | None
    time_to_resolve_seconds: float | None
    history: list[StateChange]
    reopen_count: int
    comments: list[Comment]
    tasks: list[Task]
    observables: list[Observable]
    filings: list[Filing]
    handling_result: str
    recommendations: str
    breach: BreachDetails | None
    merged_from: list[str]


class RuleHitDetail(RuleHit):
    """A rule of the incident with its metadata from the rule file (absent when the rule is no longer loaded)."""

    description: str = ""
    description_vi: str | None = None
    falsepositives: list[str] = Field(default_factory=list)
    falsepositives_vi: list[str] = Field(default_factory=list)
    response: str | None = None
    response_vi: str | None = None
    attack: AttackRefs | None = None


class AlertGroup(BaseModel):
    rule_id: str
    title: str
    title_vi: str | None
    alerts: int = Field(description="Alerts of this rule among the incident's alerts shown")
    count: int = Field(description="Events those alerts counted")
    first_seen: datetime
    last_seen: datetime
    example: AlertOut = Field(description="The rule's latest alert, with its details (numbers, evidence)")


class IncidentDetail(IncidentView):
    rules: list[RuleHitDetail] = Field(description="Every rule of the incident, with description, false positives, "
                                                   "response guide and ATT&CK")
    attack: AttackRefs = Field(description="The incident's ATT&CK techniques and tactics, named")
    alert_groups: list[AlertGroup] = Field(description="The alerts shown once per rule, with counts")
    alerts: list[AlertOut] = Field(description="The incident's alerts still held by the store")
    audit: list[AuditEntryOut] = Field(description="The audit trail, oldest first")


class Presenter:
    """Builds the views for one request (one ``now``)."""

    def __init__(self, directory: Directory, settings: Settings, now: datetime,
                 cache: SummaryCache | None = None) -> None:
        self.directory = directory
        self.settings = settings
        self.now = now
        self.cache = cache if cache is not None else SummaryCache(0)

    def _common(self, incident: Incident) -> tuple[dict[str, object], SeriousAssessment, list[Clock]]:
        agency = self.directory.agencies.get(incident.agency)
        system = self.directory.systems.get(incident.system) if incident.system else None
        serious = assess(incident, self.directory, self.settings)
        found = clocks(incident, self.settings, self.now, serious=serious.serious)
        fields: dict[str, object] = {
            "id": incident.id, "agency": incident.agency,
            "agency_name_vi": agency.name_vi if agency else incident.agency,
            "agency_name_en": agency.name_en if agency else incident.agency,
            "system": incident.system, "system_name": system.name if system else None,
            "title": incident.title, "title_en": incident.title_en, "severity": incident.severity,
            "state": incident.state,
            "resolution": incident.resolution, "assignee": incident.assignee, "rule_id": incident.rule_id,
            "rules": [hit.model_dump() for hit in incident.rules],
            "tags": incident.tags, "entities": incident.entities, "alert_ids": incident.alert_ids,
            "alert_count": incident.alert_count, "first_seen": incident.first_seen,
            "last_seen": incident.last_seen, "detected_at": incident.detected, "created": incident.created,
            "updated": incident.updated, "serious": serious.serious,
            "overdue": [c.kind for c in found if c.overdue], "merged_into": incident.merged_into,
            "version": incident.version,
        }
        return fields, serious, found

    def summary(self, incident: Incident) -> IncidentOut:
        return IncidentOut.model_validate(self._common(incident)[0])

    def summaries_json(self, incidents: list[Incident]) -> tuple[bytes, datetime | None]:
        """A list page as JSON, the shape of ``list[IncidentOut]``: the fields are already typed by the stored
        model, so they go to orjson directly (a pydantic round per item costs as much as the query); each row
        is built once per incident version (``SummaryCache``). With it, the first moment after ``now`` at which
        a row turns overdue (None: none will by itself): until then the same incidents give the same page."""
        summaries = [self.cache.get(i, self._cached) for i in incidents]
        body = orjson.dumps([s.row(self.now) for s in summaries], option=orjson.OPT_UTC_Z)
        return body, min((due for s in summaries for _, due in s.running if due > self.now), default=None)

    def _cached(self, incident: Incident) -> CachedSummary:
        fields, _, found = self._common(incident)
        return CachedSummary(fields, running_clocks(found))

    def view(self, incident: Incident) -> IncidentView:
        fields, serious, found = self._common(incident)
        return IncidentView.model_validate(fields | self._extra(incident, serious, found))

    def detail(self, incident: Incident, alerts: list[AlertOut], audit: list[AuditEntryOut],
               catalog: Mapping[str, RuleOut]) -> IncidentDetail:
        fields, serious, found = self._common(incident)
        groups = alert_groups(alerts)
        return IncidentDetail.model_validate(fields | self._extra(incident, serious, found) | {
            "rules": _rules_with_metadata(incident, groups, catalog),
            "attack": attack_refs(incident.attack_techniques, incident.attack_tactics),
            "alert_groups": groups, "alerts": alerts, "audit": audit})

    @staticmethod
    def _extra(incident: Incident, serious: SeriousAssessment, found: list[Clock]) -> dict[str, object]:
        ack, resolve = time_to_acknowledge(incident), time_to_resolve(incident)
        return {
            "description": incident.description, "categories": incident.categories,
            "attack_tactics": incident.attack_tactics, "attack_techniques": incident.attack_techniques,
            "serious_assessment": SeriousOut.model_validate(serious, from_attributes=True),
            "clocks": [ClockOut(kind=c.kind, due=c.due, done_at=c.done_at, status=c.status, overdue=c.overdue)
                       for c in found],
            "time_to_acknowledge_seconds": ack.total_seconds() if ack is not None else None,
            "time_to_resolve_seconds": resolve.total_seconds() if resolve is not None else None,
            "history": incident.history, "reopen_count": incident.reopen_count, "comments": incident.comments,
            "tasks": incident.tasks, "observables": incident.observables, "filings": incident.filings,
            "handling_result": incident.handling_result, "recommendations": incident.recommendations,
            "breach": incident.breach, "merged_from": incident.merged_from,
        }


def alert_groups(alerts: list[AlertOut]) -> list[AlertGroup]:
    """One row per rule, the busiest rule first; ``alerts`` come newest first, so the example is the latest."""
    by_rule: dict[str, list[AlertOut]] = {}
    for alert in alerts:
        by_rule.setdefault(alert.rule_id, []).append(alert)
    groups = [AlertGroup(rule_id=rule_id, title=group[0].rule_title, title_vi=group[0].rule_title_vi,
                         alerts=len(group), count=sum(a.count for a in group),
                         first_seen=min(a.first_seen for a in group), last_seen=max(a.last_seen for a in group),
                         example=max(group, key=lambda a: (a.last_seen, a.id)))
              for rule_id, group in by_rule.items()]
    return sorted(groups, key=lambda g: (-g.alerts, g.rule_id))


def _rules_with_metadata(incident: Incident, groups: list[AlertGroup],
                         catalog: Mapping[str, RuleOut]) -> list[RuleHitDetail]:
    hits = list(incident.rules)
    if not hits:  # an incident stored before rules were listed: its alerts tell which rules joined
        hits = [RuleHit(rule_id=g.rule_id, detector=g.example.detector, title=g.title, title_vi=g.title_vi,
                        severity=g.example.severity, count=g.count, alerts=g.alerts, first_seen=g.first_seen,
                        last_seen=g.last_seen) for g in groups]
    out = []
    for hit in hits:
        meta = catalog.get(hit.rule_id)
        extra: dict[str, object] = {} if meta is None else {
            "description": meta.description, "description_vi": meta.description_vi,
            "falsepositives": meta.falsepositives, "falsepositives_vi": meta.falsepositives_vi,
            "response": meta.response, "response_vi": meta.response_vi, "attack": meta.attack,
            "title_vi": hit.title_vi or meta.title_vi}
        out.append(RuleHitDetail.model_validate(hit.model_dump() | extra))
    return out


async def get_presenter(request: Request) -> Presenter:
    # From app.state directly: each sub-dependency costs FastAPI a solving round on every list page.
    state = request.app.state
    return Presenter(state.directory, state.settings, state.incidents.clock(), summary_cache(request))


def summary_cache(request: Request) -> SummaryCache:
    """The application's list-row cache, made on first use (``create_app`` builds nothing it may not need)."""
    cache = getattr(request.app.state, "summary_cache", None)
    if cache is None:
        cache = request.app.state.summary_cache = SummaryCache()
    return cache


PresenterDep = Annotated[Presenter, Depends(get_presenter)]
