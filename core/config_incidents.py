"""Configuration of incident handling (the ``incidents:`` block): grouping, clocks, legal deadlines, the
serious-incident test, reporting, sign-in with OIDC and the people who can be assigned incidents.

The law keeps changing, so every deadline is a number here and none is written into the code.
"""

from __future__ import annotations

from typing import Annotated, Literal

from canhgac.core.config_base import StrictModel
from canhgac.core.model import IncidentCategory, Severity
from pydantic import Field, field_validator, model_validator

FINGERPRINT_PARTS = ("rule", "agency", "system")


class Sla(StrictModel):
    acknowledge_minutes: Annotated[int, Field(ge=1, description="Time to acknowledge, from detection")]
    resolve_hours: Annotated[float, Field(gt=0, description="Time to resolve, from detection")]


def _default_sla() -> dict[Severity, Sla]:
    return {Severity.critical: Sla(acknowledge_minutes=15, resolve_hours=4),
            Severity.high: Sla(acknowledge_minutes=60, resolve_hours=24),
            Severity.medium: Sla(acknowledge_minutes=240, resolve_hours=72),
            Severity.low: Sla(acknowledge_minutes=1440, resolve_hours=168)}


class Deadlines(StrictModel):
    incident_notice_hours: Annotated[float, Field(ge=0, description="Circular 20/2017/TT-BTTTT: 5 days")] = 120
    breach_notice_hours: Annotated[float, Field(ge=0, description="Law 91/2025/QH15: 72 hours")] = 72
    serious_initial_report_hours: Annotated[float, Field(ge=0, description="Serious incidents: at once")] = 0
    #: Resolutions for which no incident notice is due (nothing happened).
    notice_exempt_resolutions: list[Literal["false_positive", "benign", "duplicate"]] = Field(
        default_factory=lambda: ["false_positive", "benign", "duplicate"])


#: How one rule's alerts group (Sigma custom attribute ``incident_grouping``, or ``incidents.grouping.rules``):
#: ``source``/``user`` join the agency's incident of that principal entity (source address, user) whatever the
#: rule; ``system`` groups by rule, agency and system (no principal); ``alone`` keeps the configured
#: fingerprint, one incident per fingerprint as before.
GROUPING_MODES = ("source", "user", "system", "alone")
GroupingMode = Literal["source", "user", "system", "alone"]


class Grouping(StrictModel):
    by_principal: bool = Field(True, description=(
        "Alerts of one agency with the same principal entity (source address, or user for account-centred "
        "rules) join one incident whatever the rule; false: every alert groups by the fingerprint"))
    fingerprint: Annotated[list[str], Field(min_length=1, description=(
        "What makes alerts of a rule that stands alone one incident: agency (required), rule, system and "
        "entity fields such as source.ip"))] = \
        Field(default_factory=lambda: ["rule", "agency", "source.ip"])
    window_minutes: Annotated[int, Field(ge=1, description="An alert joins an open incident seen this recently")] \
        = 1440
    reopen_cooloff_hours: Annotated[float, Field(ge=0, description=(
        "A new alert this soon after close reopens the incident; later it opens a new one"))] = 24
    rules: dict[str, GroupingMode] = Field(default_factory=dict, description=(
        "Rule id or rule name → source, user, system or alone; overrides the rule file's incident_grouping"))

    @field_validator("fingerprint")
    @classmethod
    def _fields_are_named(cls, parts: list[str]) -> list[str]:
        for part in parts:
            if part not in FINGERPRINT_PARTS and not part.replace(".", "").replace("_", "").isalnum():
                raise ValueError(f"fingerprint part {part!r} is neither {', '.join(FINGERPRINT_PARTS)} "
                                 f"nor a field name")
        if "agency" not in parts:
            raise ValueError("the fingerprint must include agency: without it, alerts of different agencies "
                             "would share one incident, and each agency would see the others' alerts")
        return parts

    @field_validator("rules")
    @classmethod
    def _rules_are_named(cls, rules: dict[str, GroupingMode]) -> dict[str, GroupingMode]:
        for name in rules:
            if not name.strip() or name != name.strip():
                raise ValueError(f"rule {name!r}: give a rule id or a rule name, without surrounding spaces")
        return rules

    def mode_for(self, rule_id: str, rule_name: str | None, attribute: str | None) -> str:
        """The configuration (by id, then by name) wins over the rule file; ``source`` when neither says."""
        configured = self.rules.get(rule_id) or (self.rules.get(rule_name) if rule_name else None)
        if configured is not None:
            return configured
        return attribute if attribute in GROUPING_MODES else "source"

    def unknown_rules(self, known: set[str]) -> list[str]:
        """Configured rule ids or names that no loaded rule has (a typo would silently group nothing)."""
        return sorted(name for name in self.rules if name not in known)


class SeriousTest(StrictModel):
    min_security_level: Annotated[int, Field(ge=1, le=5)] = 4
    categories: list[IncidentCategory] = Field(default_factory=lambda: [
        IncidentCategory.outage, IncidentCategory.secret_data_leak, IncidentCategory.personal_data_leak,
        IncidentCategory.integrity_loss, IncidentCategory.loss_of_control, IncidentCategory.spread])


class Reporter(StrictModel):
    organization: str = "Trung tâm giám sát, điều hành an toàn, an ninh mạng (SOC)"
    name: str = ""
    phone: str = ""
    email: str = ""


class Reporting(StrictModel):
    reporter: Reporter = Reporter()
    recipient: str = "Cục An toàn thông tin — Bộ Khoa học và Công nghệ"
    operators: dict[str, str] = Field(default_factory=dict, description="System id → operating unit")


class Oidc(StrictModel):
    jwks_file: str = Field(description="JSON Web Key Set of the identity provider, relative to this file")
    issuer: str
    audience: str
    username_claim: str = "preferred_username"
    algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]] = Field(
        default_factory=lambda: ["RS256", "ES256"])
    leeway_seconds: Annotated[int, Field(ge=0, le=300)] = 30


class User(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=128, description="The OIDC username")]
    display_name: str = ""
    role: Literal["soc_admin", "soc_analyst", "agency_responder", "agency_viewer", "auditor"]
    agency: str | None = None

    @model_validator(mode="after")
    def _agency_roles_need_agency(self) -> User:
        if self.role in ("agency_responder", "agency_viewer") and self.agency is None:
            raise ValueError(f"role {self.role} needs an agency")
        return self


class PostureSettings(StrictModel):
    period_days: Annotated[int, Field(ge=1, le=366)] = 30


class IncidentSettings(StrictModel):
    grouping: Grouping = Grouping()
    sla: dict[Severity, Sla] = Field(default_factory=_default_sla)
    deadlines: Deadlines = Deadlines()
    serious: SeriousTest = SeriousTest()
    reporting: Reporting = Reporting()
    posture: PostureSettings = PostureSettings()
    oidc: Oidc | None = None
    users: list[User] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_severity_has_an_sla(self) -> IncidentSettings:
        missing = [s.value for s in Severity if s not in self.sla]
        if missing:
            raise ValueError(f"sla is missing severities: {', '.join(missing)}")
        names = [u.name for u in self.users]
        if len(names) != len(set(names)):
            raise ValueError("users: duplicate name")
        return self

    def sla_for(self, severity: Severity) -> Sla:
        return self.sla[severity]


def incident_reference_problems(incidents: IncidentSettings, agency_ids: set[str],
                                system_ids: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Names in the block that must exist elsewhere in the file (checked with the rest of the file)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, user in enumerate(incidents.users):
        if user.agency is not None and user.agency not in agency_ids:
            problems.append((("incidents", "users", index, "agency"), f"unknown agency {user.agency!r}"))
    for system_id in incidents.reporting.operators:
        if system_id not in system_ids:
            problems.append((("incidents", "reporting", "operators", system_id), f"unknown system {system_id!r}"))
    return problems
