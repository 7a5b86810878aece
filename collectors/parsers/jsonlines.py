"""Generic JSON lines, driven by a YAML field mapping: vendor software (one-stop, e-office, data-sharing
gateways) writes its own JSON audit logs, and a mapping file turns them into ECS without code.

See ``collectors/mappings/README.md`` for the mapping format and the shipped mappings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import yaml
from canhgac.collectors.parsers.base import ParserOptions
from canhgac.collectors.parsers.fields import is_ip
from canhgac.collectors.parsers.times import Times, zone_named
from canhgac.collectors.parsers.url import decode_path, decode_query
from canhgac.core.errors import ConfigError, ParseError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"
FieldType = Literal["str", "int", "float", "bool", "ip", "list", "keep", "time", "url_path", "url_query"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Fields a mapping may not write: the agency and system of a line, its id, place and original text come from
#: the source that read it; evidence fields are the detection engine's.
RESERVED_TARGETS = frozenset({"organization.id", "service.id", "event.id", "event.original", "event.ingested",
                              "log.file.path", "log.offset", "@timestamp"})
RESERVED_PREFIXES = ("canhgac.",)


class FieldRule(_Strict):
    source: Annotated[str, Field(alias="from", min_length=1, description="dotted path into the JSON document")]
    type: FieldType = "str"


class TimestampRule(_Strict):
    source: Annotated[str, Field(alias="from", min_length=1)]
    format: str = Field("iso8601", description="iso8601, epoch_s, epoch_ms, epoch_us, epoch_ns, or a pattern "
                                              "such as 'dd/MM/yyyy HH:mm:ss'")
    timezone: str | None = Field(None, description="zone of zone-less times; default: the source's zone")


class ValueMap(_Strict):
    source: Annotated[str, Field(alias="from", min_length=1)]
    values: dict[str, dict[str, Any]]
    default: dict[str, Any] = Field(default_factory=dict)


class OutcomeRule(_Strict):
    source: Annotated[str, Field(alias="from", min_length=1)]
    success: list[str] = Field(default_factory=list)
    failure: list[str] = Field(default_factory=list)


class Mapping(_Strict):
    module: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    dataset: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")]
    description: str = ""
    timestamp: TimestampRule
    static: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, str | FieldRule] = Field(default_factory=dict)
    actions: ValueMap | None = None
    outcome: OutcomeRule | None = None
    required: list[str] = Field(default_factory=list, description="paths whose absence makes a dead letter")
    unknown_fields: Literal["flag", "ignore"] = "flag"

    @model_validator(mode="after")
    def _no_reserved_targets(self) -> Mapping:
        """Whose line it is and where it was read come from the source, never from the line's content."""
        targets = [*self.fields, *self.static]
        if self.actions is not None:
            targets += [name for values in (*self.actions.values.values(), self.actions.default) for name in values]
        reserved = sorted({name for name in targets if name in RESERVED_TARGETS
                           or name.startswith(RESERVED_PREFIXES)})
        if reserved:
            raise ValueError(f"a mapping may not set {', '.join(reserved)}: the source decides these")
        return self


def load_mapping(path: Path) -> Mapping:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Mapping.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"cannot read the mapping: {exc.strerror}", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not YAML: {exc}", file=str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], file=str(path), field=where) from None


Getter = Callable[[dict[str, Any]], Any]
_MISSING = object()


def _getter(path: str) -> Getter:
    parts = tuple(path.split("."))
    if len(parts) == 1:
        key = parts[0]
        return lambda doc: doc.get(key, _MISSING)
    if len(parts) == 2:  # the common case, without a loop
        first, second = parts

        def get2(doc: dict[str, Any]) -> Any:
            node = doc.get(first)
            return node.get(second, _MISSING) if type(node) is dict else _MISSING
        return get2

    def get(doc: dict[str, Any]) -> Any:
        node: Any = doc
        for part in parts:
            if not isinstance(node, dict):
                return _MISSING
            node = node.get(part, _MISSING)
            if node is _MISSING:
                return _MISSING
        return node
    return get


_PATTERN_TOKENS = {"yyyy": "year", "MM": "month", "dd": "day", "HH": "hour", "mm": "minute", "ss": "second",
                   "SSS": "millis"}


def _pattern_parser(pattern: str, times: Times) -> Callable[[str], str]:
    """``dd/MM/yyyy HH:mm:ss`` → a function that slices those positions (fixed-width patterns only)."""
    positions: dict[str, tuple[int, int]] = {}
    index = 0
    literal = []
    while index < len(pattern):
        for token, name in _PATTERN_TOKENS.items():
            if pattern.startswith(token, index):
                positions[name] = (index, index + len(token))
                literal.append("\0" * len(token))
                index += len(token)
                break
        else:
            literal.append(pattern[index])
            index += 1
    missing = {"year", "month", "day", "hour", "minute", "second"} - positions.keys()
    if missing:
        raise ConfigError(f"time pattern {pattern!r} lacks {', '.join(sorted(missing))}")
    mask = "".join(literal)
    checks = [(i, ch) for i, ch in enumerate(mask) if ch != "\0"]

    def parse(text: str) -> str:
        if len(text) < len(mask) or any(text[i] != ch for i, ch in checks):
            raise ValueError(f"{text[:40]!r} does not fit {pattern!r}")
        offset = text[len(mask):].strip()
        get = {name: text[a:b] for name, (a, b) in positions.items()}
        return times.parts(get["year"], get["month"], get["day"], f"{get['hour']}:{get['minute']}:{get['second']}",
                           offset=offset, millis=get.get("millis", "000"))
    return parse


def _time_parser(rule: TimestampRule, zone: tzinfo) -> Callable[[Any], str]:
    times = Times(zone_named(rule.timezone) if rule.timezone else zone)
    if rule.format == "iso8601":
        return lambda value: times.iso(str(value))
    if rule.format.startswith("epoch_"):
        unit = rule.format[6:]
        if unit not in ("s", "ms", "us", "ns"):
            raise ConfigError(f"unknown epoch unit in {rule.format!r}")
        return lambda value: times.epoch(value if isinstance(value, int | float) else str(value), unit)
    pattern = _pattern_parser(rule.format, times)
    return lambda value: pattern(str(value))


def _convert(kind: str, value: Any, time_of: Callable[[Any], str]) -> Any:
    if value is None or value == "" or value == "-":
        return _MISSING
    if kind == "str":
        return value if isinstance(value, str) else orjson.dumps(value).decode() if isinstance(
            value, dict | list) else str(value)
    if kind == "int":
        return int(value) if not isinstance(value, bool) else _MISSING
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "co", "có")
    if kind == "ip":
        return str(value) if is_ip(str(value)) else _MISSING
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [str(item) for item in items if item is not None]
    if kind == "time":
        return time_of(value)
    if kind == "url_path":
        return decode_path(str(value))
    if kind == "url_query":
        return decode_query(str(value))
    return value  # keep


class JsonLinesParser:
    def __init__(self, mapping: Mapping, options: ParserOptions | None = None, *, name: str | None = None) -> None:
        options = options or ParserOptions()
        self.mapping = mapping
        self.format = name or mapping.module
        self.static_fields: dict[str, Any] = {"event.kind": "event", "event.module": mapping.module,
                                              "event.dataset": mapping.dataset, **mapping.static}
        self._time = _time_parser(mapping.timestamp, options.times_zone)
        self._time_of = _getter(mapping.timestamp.source)
        self._rules = []
        for target, rule in mapping.fields.items():
            source, kind = (rule, "str") if isinstance(rule, str) else (rule.source, rule.type)
            self._rules.append((target, _getter(source), kind))
        self._required = [(path, _getter(path)) for path in mapping.required]
        self._actions = (_getter(mapping.actions.source), mapping.actions) if mapping.actions else None
        self._outcome = (_getter(mapping.outcome.source), frozenset(mapping.outcome.success),
                         frozenset(mapping.outcome.failure)) if mapping.outcome else None
        used = [mapping.timestamp.source, *mapping.required, *(r.source if not isinstance(r, str) else r
                                                                for r in mapping.fields.values())]
        used += [m.source for m in (mapping.actions, mapping.outcome) if m is not None]
        self._known_tops = frozenset(path.split(".")[0] for path in used)

    @classmethod
    def from_file(cls, path: Path, options: ParserOptions | None = None, *, name: str | None = None
                  ) -> JsonLinesParser:
        return cls(load_mapping(path), options, name=name)

    def parse(self, line: str) -> dict[str, Any]:
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise ParseError(f"a JSON line must hold an object, not {type(document).__name__}")
        return self.parse_document(document)

    def parse_document(self, document: dict[str, Any]) -> dict[str, Any]:
        for path, get in self._required:
            if get(document) in (_MISSING, None, ""):
                raise ParseError(f"required field {path!r} is missing")
        when = self._time_of(document)
        if when is _MISSING or when is None:
            raise ParseError(f"time field {self.mapping.timestamp.source!r} is missing")
        try:
            fields: dict[str, Any] = {"@timestamp": self._time(when)}
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(f"time field {self.mapping.timestamp.source!r}: {exc}") from None
        invalid = []
        for target, get, kind in self._rules:
            value = get(document)
            if value is _MISSING:
                continue
            if kind == "str" and type(value) is str:  # most fields: no conversion
                if value and value != "-":
                    fields[target] = value
                continue
            try:
                converted = _convert(kind, value, self._time)
            except (ValueError, TypeError, OverflowError):
                invalid.append(target)
                continue
            if converted is not _MISSING:
                fields[target] = converted
            elif value not in (None, "", "-"):
                invalid.append(target)
        if self._actions is not None:
            get, actions = self._actions
            action = get(document)
            extra = actions.values.get(str(action), actions.default) if action is not _MISSING else actions.default
            fields.update(extra)
        if self._outcome is not None:
            get, success, failure = self._outcome
            verdict = str(get(document))
            if verdict in success:
                fields["event.outcome"] = "success"
            elif verdict in failure:
                fields["event.outcome"] = "failure"
        tags = []
        if invalid:
            tags.append("invalid_fields")
            fields["labels.invalid_fields"] = ",".join(invalid)
        if self.mapping.unknown_fields == "flag":
            unknown = [key for key in document if key not in self._known_tops]
            if unknown:
                tags.append("unknown_fields")
                fields["labels.unknown_fields"] = ",".join(sorted(unknown))
        if tags:
            fields["tags"] = tags
        return fields


_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def builtin_mappings() -> dict[str, Path]:
    """The mappings shipped in ``collectors/mappings/``: format name → file."""
    return {path.stem: path for path in sorted(MAPPINGS_DIR.glob("*.yaml")) if _NAME.match(path.stem)}
