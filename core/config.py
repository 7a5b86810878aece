"""The configuration: one YAML file, validated, with errors that name the file, line and field."""

from __future__ import annotations

import ipaddress
import os
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from canhgac.core.config_base import StrictModel
from canhgac.core.config_cluster import ClusterSettings
from canhgac.core.config_collection import CollectionSettings, collection_reference_problems
from canhgac.core.config_detection import AnomalySettings, DetectionSettings
from canhgac.core.config_incidents import IncidentSettings, User, incident_reference_problems
from canhgac.core.config_oncall import EscalationSettings, OnCallPolicy, oncall_reference_problems
from canhgac.core.errors import ConfigError, ConfigErrors
from canhgac.core.model import Severity
from canhgac.core.yamlpos import line_of, load_with_lines
from pydantic import Discriminator, Field, PrivateAttr, Tag, ValidationError, field_validator, model_validator

PACKAGE_DIR = Path(__file__).resolve().parent
EXAMPLE_CONFIG = PACKAGE_DIR / "defaults" / "example.yaml"
__all__ = ["AnomalySettings", "DetectionSettings", "Settings", "load_settings"]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
EARLIEST_DISSOLUTION = date(1945, 9, 2)


class AgencyLevel(StrEnum):
    national = "national"
    ministry = "ministry"
    province = "province"
    department = "department"
    district = "district"
    commune = "commune"


class Agency(StrictModel):
    id: Identifier
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,7}$",
                               description="Short code used in incident numbers, e.g. BDH")]
    name_vi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    level: AgencyLevel
    parent: str | None = None
    merged_into: str | None = Field(None, description="Successor after a merger (e.g. the 2025 provinces)")
    dissolved: date | None = Field(None, description="First day the unit no longer existed, e.g. 2025-07-01; "
                                   "its old incidents keep it and count for merged_into")

    @field_validator("dissolved")
    @classmethod
    def _dissolved_is_a_past_date(cls, value: date | None) -> date | None:
        # A dissolution is entered once it has happened: a future date would hide a unit that still exists.
        if value is not None and not EARLIEST_DISSOLUTION <= value <= date.today() + timedelta(days=1):
            raise ValueError(f"dissolved must be between {EARLIEST_DISSOLUTION} and today")
        return value

    @property
    def is_current(self) -> bool:
        """Whether the unit still exists (neither merged into another nor dissolved)."""
        return self.merged_into is None and self.dissolved is None

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_vi


class SystemKind(StrEnum):
    public_service_portal = "public_service_portal"
    one_stop = "one_stop"
    e_office = "e_office"
    data_sharing_gateway = "data_sharing_gateway"
    other = "other"


class FileLogSource(StrictModel):
    """Log files read by the file collector."""

    type: Literal["file"] = "file"
    paths: Annotated[list[str], Field(min_length=1)]
    format: str
    timezone: str | None = Field(None, description="zone of zone-less times; default: the top-level timezone")
    backfill_rotated: bool = Field(False, description="on first start, read rotated copies (.1, .2.gz) first")


class SyslogLogSource(StrictModel):
    """The machines whose syslog (received by a ``collection.syslog`` listener) belongs to this system."""

    type: Literal["syslog"]
    senders: Annotated[list[str], Field(min_length=1, description="IP addresses, networks or host names")]
    format: str | None = Field(None, description="parser of these senders' message bodies; default: the listener's")


class HttpLogSource(StrictModel):
    """Logs pushed over HTTP (NDJSON, or an Elasticsearch bulk request from Fluent Bit, Vector, Logstash)."""

    type: Literal["http"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    format: str
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the push token, hex")]
    message_fields: list[str] = Field(["message", "log", "event.original"],
                                      description="where a pushed document holds the raw line (text formats)")
    timezone: str | None = None


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "file"))
    return str(getattr(value, "type", "file"))


LogSource = Annotated[Annotated[FileLogSource, Tag("file")] | Annotated[SyslogLogSource, Tag("syslog")]
                      | Annotated[HttpLogSource, Tag("http")], Discriminator(_source_kind)]


class MonitoredSystem(StrictModel):
    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    agency: str
    kind: SystemKind
    security_level: Annotated[int, Field(ge=1, le=5, description="Decree 85/2016 level")]
    hostnames: list[str] = Field(default_factory=list)
    ip_ranges: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(default_factory=list)
    log_sources: list[LogSource] = Field(default_factory=list)


class SqliteSettings(StrictModel):
    path: str = Field("canhgac.db", description="Relative paths are taken under CANHGAC_HOME")


class ElasticsearchSettings(StrictModel):
    url: Annotated[str, Field(pattern=r"^https?://")]
    index_prefix: Identifier = "canhgac"
    username: str | None = None
    password_env: str | None = Field(None, description="Environment variable holding the password")
    api_key_env: str | None = Field(None, description="Environment variable holding an API key")
    ca_certs: str | None = None
    verify_certs: bool = True
    server_mode: Literal["stack", "serverless"] = "stack"
    request_timeout: float = 30.0


#: Circular 31/2017/TT-BTTTT: monitoring data is kept at least this long.
MIN_RETENTION_DAYS = 30


class StoreSettings(StrictModel):
    kind: Literal["sqlite", "elasticsearch"] = "sqlite"
    sqlite: SqliteSettings = SqliteSettings()
    elasticsearch: ElasticsearchSettings | None = None
    retention_days: int | None = Field(None, description=(
        "Delete events and dead letters older than this many days (at least 30, Circular 31/2017); "
        "unset: keep them all. Alerts, incidents and the audit trail are always kept."))

    @field_validator("retention_days")
    @classmethod
    def _retention_meets_the_circular(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_RETENTION_DAYS:
            raise ValueError(f"retention_days must be at least {MIN_RETENTION_DAYS} (Circular 31/2017/TT-BTTTT "
                             f"keeps monitoring data 30 days or more), got {value}")
        return value

    @model_validator(mode="after")
    def _elasticsearch_needs_settings(self) -> StoreSettings:
        if self.kind == "elasticsearch" and self.elasticsearch is None:
            raise ValueError("kind is elasticsearch but the elasticsearch block is missing")
        return self


class SlackUser(User):
    """A Slack member who may act from chat (buttons, ``/canhgac``) as this Canh Gác user, role and agency."""

    slack_id: Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,31}$", description="Slack member id, e.g. U0123ABCD")]
    language: Literal["vi", "en"] | None = Field(None, description="Replies in chat; default: notifications.language")


class SlackSettings(StrictModel):
    token_env: str = "SLACK_BOT_TOKEN"
    base_url: str = "https://slack.com/api/"
    public_url: str | None = Field(None, description=(
        "Base URL of the Canh Gác page as responders open it (https://soc.example.gov.vn); messages link incidents"))
    pace_seconds: float = Field(1.0, ge=0, le=60, description=(
        "Seconds between two messages to one channel (Slack allows about one per second)"))
    signing_secret_env: str = Field("SLACK_SIGNING_SECRET", description=(
        "Environment variable holding the Slack app's signing secret (buttons and /canhgac are refused without it)"))
    users: list[SlackUser] = Field(default_factory=list, description="Slack members mapped to Canh Gác users")

    @field_validator("users")
    @classmethod
    def _one_mapping_per_member(cls, users: list[SlackUser]) -> list[SlackUser]:
        ids = [u.slack_id for u in users]
        if len(ids) != len(set(ids)):
            raise ValueError("users: a Slack member is mapped twice")
        return users


class NotificationRoute(StrictModel):
    name: str
    channel: Annotated[str, Field(min_length=1)]
    agencies: list[str] = Field(default_factory=list, description="Agency subtrees; empty means all")
    min_severity: Severity = Severity.medium


class NotificationSettings(StrictModel):
    language: Literal["vi", "en"] = "vi"
    slack: SlackSettings | None = None
    routes: list[NotificationRoute] = Field(default_factory=list)
    oncall: list[OnCallPolicy] = Field(default_factory=list, description="On-call rotations and escalation chains")
    escalation: EscalationSettings = EscalationSettings()


class Role(StrEnum):
    soc_admin = "soc_admin"
    soc_analyst = "soc_analyst"
    agency_responder = "agency_responder"
    agency_viewer = "agency_viewer"
    auditor = "auditor"

    @property
    def sees_all(self) -> bool:
        return self in (Role.soc_admin, Role.soc_analyst, Role.auditor)


class ApiKey(StrictModel):
    name: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the key, hex")]
    role: Role
    agency: str | None = None

    @model_validator(mode="after")
    def _agency_roles_need_agency(self) -> ApiKey:
        if not self.role.sees_all and self.agency is None:
            raise ValueError(f"role {self.role.value} needs an agency")
        return self


class Settings(StrictModel):
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    agencies: Annotated[list[Agency], Field(min_length=1)]
    systems: list[MonitoredSystem] = Field(default_factory=list)
    store: StoreSettings = StoreSettings()
    notifications: NotificationSettings = NotificationSettings()
    api_keys: list[ApiKey] = Field(default_factory=list)
    detection: DetectionSettings = DetectionSettings()
    collection: CollectionSettings = CollectionSettings()
    incidents: IncidentSettings = IncidentSettings()
    cluster: ClusterSettings = ClusterSettings()

    _source: Path | None = PrivateAttr(None)

    @property
    def source(self) -> Path | None:
        return self._source

    def resolve_path(self, value: str) -> Path:
        """A path from the file, taken relative to the file's own folder."""
        path = Path(os.path.expanduser(value))
        if path.is_absolute() or self._source is None:
            return path
        return self._source.parent / path


def home_dir() -> Path:
    home = Path(os.environ.get("CANHGAC_HOME") or Path.home() / ".canhgac")
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_config_path() -> Path:
    env = os.environ.get("CANHGAC_CONFIG")
    if env:
        return Path(env)
    own = Path(os.environ["CANHGAC_HOME"]) / "canhgac.yaml" if os.environ.get("CANHGAC_HOME") else None
    return own if own is not None and own.exists() else EXAMPLE_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    file = Path(path) if path is not None else default_config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(file)) from None
    return parse_settings(text, str(file), source=file)


def parse_settings(text: str, filename: str, *, source: Path | None = None) -> Settings:
    data, lines = load_with_lines(text, filename)
    if not isinstance(data, dict):
        raise ConfigError("the file must hold a mapping (key: value) at the top", file=filename, line=1)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigErrors([_located(err, filename, lines) for err in exc.errors()]) from None
    problems = [ConfigError(msg, file=filename, line=line_of(lines, loc), field=_dotted(loc))
                for loc, msg in _reference_problems(settings)]
    if problems:
        raise ConfigErrors(problems)
    settings._source = source.resolve() if source is not None else None
    return settings


def _located(err: Any, filename: str, lines: dict[Any, int]) -> ConfigError:
    loc = tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "missing":
        message = "required field is missing"
    return ConfigError(message, file=filename, line=line_of(lines, loc), field=_dotted(loc))


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reference_problems(settings: Settings) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    ids: dict[str, int] = {}
    for index, agency in enumerate(settings.agencies):
        if agency.id in ids:
            problems.append((("agencies", index, "id"), f"duplicate agency id {agency.id!r}"))
        ids[agency.id] = index
    codes: set[str] = set()
    for index, agency in enumerate(settings.agencies):
        if agency.code in codes:
            problems.append((("agencies", index, "code"), f"duplicate agency code {agency.code!r}"))
        codes.add(agency.code)
        for key in ("parent", "merged_into"):
            target = getattr(agency, key)
            if target is not None and target not in ids:
                problems.append((("agencies", index, key), f"unknown agency {target!r}"))
    problems += _tree_date_problems(settings.agencies, ids)
    problems += _cycles(settings.agencies)
    system_ids: set[str] = set()
    for index, system in enumerate(settings.systems):
        if system.id in system_ids:
            problems.append((("systems", index, "id"), f"duplicate system id {system.id!r}"))
        system_ids.add(system.id)
        if system.agency not in ids:
            problems.append((("systems", index, "agency"), f"unknown agency {system.agency!r}"))
    for index, route in enumerate(settings.notifications.routes):
        for item, agency_id in enumerate(route.agencies):
            if agency_id not in ids:
                problems.append((("notifications", "routes", index, "agencies", item),
                                 f"unknown agency {agency_id!r}"))
    for index, slack_user in enumerate(settings.notifications.slack.users if settings.notifications.slack else []):
        if slack_user.agency is not None and slack_user.agency not in ids:
            problems.append((("notifications", "slack", "users", index, "agency"),
                             f"unknown agency {slack_user.agency!r}"))
    slack_ids = {u.name: u.slack_id for u in settings.notifications.slack.users} if settings.notifications.slack else {}
    problems += oncall_reference_problems(settings.notifications.oncall, set(ids), slack_ids)
    for index, key in enumerate(settings.api_keys):
        if key.agency is not None and key.agency not in ids:
            problems.append((("api_keys", index, "agency"), f"unknown agency {key.agency!r}"))
    problems += incident_reference_problems(settings.incidents, set(ids), system_ids)
    http_names = [(i, j, source.name) for i, system in enumerate(settings.systems)
                  for j, source in enumerate(system.log_sources) if isinstance(source, HttpLogSource)]
    problems += collection_reference_problems(settings.collection, set(ids), http_names)
    return problems


def _tree_date_problems(agencies: list[Agency], ids: dict[str, int]) -> list[tuple[tuple[Any, ...], str]]:
    """A successor must exist when the merger happens, and a current unit must hang under a current one."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    for index, agency in enumerate(agencies):
        target = agencies[ids[agency.merged_into]] if agency.merged_into in ids else None
        if target is not None and target.id != agency.id and not target.is_current and not (
                agency.dissolved and target.dissolved and target.dissolved > agency.dissolved):
            # A chain (a department merged in March, the merged department again in July) needs both dates.
            problems.append((("agencies", index, "merged_into"),
                             f"{target.id!r} no longer exists; merge into a current agency, or give both "
                             "dissolved dates (the successor dissolved later)"))
        parent = agencies[ids[agency.parent]] if agency.parent in ids else None
        if parent is None:
            continue
        if agency.is_current and parent.dissolved is not None:
            # Only a dated dissolution: files written before dates existed nest current units under merged ones.
            problems.append((("agencies", index, "parent"),
                             f"parent {parent.id!r} was dissolved on {parent.dissolved}; "
                             "a current agency needs a current parent"))
        elif agency.dissolved and parent.dissolved and agency.dissolved > parent.dissolved:
            problems.append((("agencies", index, "dissolved"),
                             f"dissolved {agency.dissolved} after its parent {parent.id!r} ({parent.dissolved})"))
    return problems


def _cycles(agencies: list[Agency]) -> list[tuple[tuple[Any, ...], str]]:
    # Both links lead up: a dissolved unit stays under its old parent and also under its successor.
    up = {a.id: [t for t in (a.parent, a.merged_into) if t is not None] for a in agencies}
    problems = []
    for index, agency in enumerate(agencies):
        seen: set[str] = set()
        stack = list(up.get(agency.id, ()))
        while stack:
            node = stack.pop()
            if node == agency.id:
                problems.append((("agencies", index, "parent"), f"agency {agency.id!r} is its own ancestor"))
                break
            if node not in seen:
                seen.add(node)
                stack.extend(up.get(node, ()))
    return problems
