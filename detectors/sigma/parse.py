"""Turn one YAML document into a ``CompiledRule``: our own checks, pySigma's parser, then the compiler.

Every problem becomes a ``RuleError`` with the file, the line of the offending key (pySigma reports
no lines, so errors are located through the document's line map) and the key path as ``field``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sigma.exceptions as sx
from canhgac.core.config_incidents import GROUPING_MODES
from canhgac.core.errors import RuleError
from canhgac.detectors.sigma.compiler import ConditionCompiler, UnsupportedFeature, make_or
from canhgac.detectors.sigma.fieldmap import ROUTES, LogsourceRoute, describe_logsource, route_for
from canhgac.detectors.sigma.modifiers import ENCODING_MODIFIERS, canonical_key, modifier_problem
from canhgac.detectors.sigma.nodes import Node
from canhgac.detectors.sigma.rule import DEFAULT_SEVERITY, LEVEL_SEVERITY, CompiledRule, Logsource
from canhgac.detectors.sigma.yamldoc import KeyPath, YamlDocument
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule

#: pySigma errors that always concern one top-level key.
_ERROR_KEYS: tuple[tuple[type[SigmaError], KeyPath], ...] = (
    (sx.SigmaIdentifierError, ("id",)), (sx.SigmaTitleError, ("title",)), (sx.SigmaLevelError, ("level",)),
    (sx.SigmaStatusError, ("status",)), (sx.SigmaTagError, ("tags",)), (sx.SigmaDateError, ("date",)),
    (sx.SigmaFieldsError, ("fields",)), (sx.SigmaFalsePositivesError, ("falsepositives",)),
    (sx.SigmaAuthorError, ("author",)), (sx.SigmaDescriptionError, ("description",)),
    (sx.SigmaReferencesError, ("references",)), (sx.SigmaScopeError, ("scope",)),
    (sx.SigmaLicenseError, ("license",)), (sx.SigmaNameError, ("name",)), (sx.SigmaTaxonomyError, ("taxonomy",)),
    (sx.SigmaRelatedError, ("related",)), (sx.SigmaLogsourceError, ("logsource",)),
    (sx.SigmaConditionError, ("detection", "condition")),
)
#: Errors whose class is shared with detection errors, placed by a word in the message.
_MESSAGE_HINTS = (("tag", "tags"), ("name", "name"), ("modified", "modified"))
#: Document kinds pySigma knows that this engine does not evaluate, by their marker key.
_UNSUPPORTED_KINDS = {
    "action": "multi-document rule collections (action: global/repeat/reset) are not supported; "
              "write one complete rule per document",
}
#: pySigma errors of correlation and filter documents, by the key they concern.
_META_ERROR_KEYS: tuple[tuple[type[SigmaError], KeyPath], ...] = (
    (sx.SigmaCorrelationTypeError, ("correlation", "type")), (sx.SigmaTimespanError, ("correlation", "timespan")),
    (sx.SigmaCorrelationConditionError, ("correlation", "condition")), (sx.SigmaCorrelationRuleError, ("correlation",)),
    (sx.SigmaFilterConditionError, ("filter", "condition")), (sx.SigmaFilterRuleReferenceError, ("filter", "rules")),
    (sx.SigmaFilterError, ("filter",)),
)


@dataclass(frozen=True)
class ParseOptions:
    """Settings that change how rules compile: the values of ``%placeholders%`` (``expand`` modifier)."""

    placeholders: Mapping[str, Sequence[str]] = field(default_factory=dict)


class RuleProblems(Exception):
    """One or more located errors that prevent a document from becoming a rule."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class RuleParser:
    """Parses and compiles one YAML document of a rule file."""

    def __init__(self, path: Path, document: YamlDocument, options: ParseOptions | None = None) -> None:
        self.path = path
        self.document = document
        self.data: Any = document.data
        self.options = options or ParseOptions()

    def error(self, message: str, *path: Any) -> RuleError:
        return RuleError(message, file=str(self.path), line=self.document.line_of(*path),
                         field=".".join(str(part) for part in path) or None)

    def check_document(self) -> None:
        if not isinstance(self.data, dict):
            raise RuleProblems([self.error("a Sigma rule must be a YAML mapping")])
        for key, reason in _UNSUPPORTED_KINDS.items():
            if key in self.data:
                raise RuleProblems([self.error(reason, key)])

    def build(self) -> CompiledRule:
        self.check_document()
        problems = [*self.check_id(), *self.check_logsource(), *self.check_detection()]
        route = route_for(*self.logsource_key()) if not problems else None
        if route is None:  # without problems, a route always exists: check_logsource looked for it
            raise RuleProblems(problems)
        sigma_rule = self.parse_sigma()
        return self.compiled(sigma_rule, route, self.compile_condition(sigma_rule))

    def logsource_key(self) -> tuple[Any, Any, Any]:
        logsource = self.data["logsource"]
        return logsource.get("category"), logsource.get("product"), logsource.get("service")

    def check_id(self) -> Iterator[RuleError]:
        rule_id = self.data.get("id")
        if rule_id is None or rule_id == "":
            yield self.error("rule has no id; a UUID is required so that alert ids stay stable", "id")
        elif not isinstance(rule_id, str):
            yield self.error(f"rule id must be a UUID string, not {rule_id!r}", "id")

    def check_logsource(self) -> Iterator[RuleError]:
        logsource = self.data.get("logsource")
        if logsource is None:
            yield self.error("rule has no logsource", "logsource")
        elif not isinstance(logsource, dict):
            yield self.error("logsource must be a mapping of category / product / service", "logsource")
        elif route_for(*self.logsource_key()) is None:
            known = "; ".join(route.describe() for route in ROUTES)
            yield self.error(f"unsupported logsource {describe_logsource(*self.logsource_key())}; "
                             f"Canh Gác has events for: {known}", "logsource")

    def check_detection(self) -> Iterator[RuleError]:
        detection = self.data.get("detection")
        if detection is None:
            yield self.error("rule has no detection section", "detection")
            return
        if not isinstance(detection, dict):
            yield self.error("detection must be a mapping of named selections and a condition", "detection")
            return
        condition = detection.get("condition")
        if condition is None:
            yield self.error("detection has no condition", "detection")
        elif not (isinstance(condition, str) or (isinstance(condition, list) and condition
                                                 and all(isinstance(item, str) for item in condition))):
            yield self.error("condition must be a string or a list of strings", "detection", "condition")
        for name, definition in detection.items():
            if definition is None:
                yield self.error(f"selection '{name}' is empty", "detection", name)
        for path, key in self.detection_keys(detection):
            if not isinstance(key, str):
                yield self.error(f"detection key {key!r} is not a field name", *path)
                continue
            for modifier in key.split("|")[1:]:
                problem = modifier_problem(modifier)
                if problem:
                    yield self.error(problem, *path)

    @staticmethod
    def detection_keys(detection: dict[Any, Any]) -> Iterator[tuple[KeyPath, Any]]:
        """Every ``field|modifier`` key of the named selections, with its key path."""
        for name, definition in detection.items():
            if name == "condition":
                continue
            if isinstance(definition, dict):
                mappings: list[tuple[KeyPath, dict[Any, Any]]] = [(("detection", name), definition)]
            elif isinstance(definition, list):
                mappings = [(("detection", name, index), item) for index, item in enumerate(definition)
                            if isinstance(item, dict)]
            else:
                mappings = []
            for base, mapping in mappings:
                for key in mapping:
                    yield (*base, key), key

    def canonical_data(self) -> Any:
        """The document with modifier aliases spelled the way pySigma knows them."""
        detection = self.data.get("detection")
        if not isinstance(detection, dict):
            return self.data

        def rewrite(definition: Any) -> Any:
            if isinstance(definition, dict):
                return {canonical_key(key) if isinstance(key, str) else key: value for key, value in definition.items()}
            if isinstance(definition, list):
                return [rewrite(item) if isinstance(item, dict) else item for item in definition]
            return definition

        return {**self.data, "detection": {name: definition if name == "condition" else rewrite(definition)
                                           for name, definition in detection.items()}}

    def parse_sigma(self) -> SigmaRule:
        rule = SigmaRule.from_dict(self.canonical_data(), collect_errors=True, source=SigmaRuleLocation(self.path))
        if rule.errors:
            raise RuleProblems([self.located(error) for error in rule.errors])
        return rule

    def located(self, error: SigmaError) -> RuleError:
        """pySigma's error with the line of the key it concerns."""
        message = str(error.args[0]) if error.args else type(error).__name__
        for error_class, path in (*_META_ERROR_KEYS, *_ERROR_KEYS):
            if isinstance(error, error_class):
                return self.error(message, *path)
        path = self.failing_detection_key()
        if path is None:
            lowered = message.lower()
            path = next(((key,) for hint, key in _MESSAGE_HINTS if hint in lowered and key in self.data),
                        ("detection",))
        return self.error(message, *path)

    def failing_detection_key(self) -> KeyPath | None:
        """Re-parse the selections key by key to find the first one pySigma refuses."""
        detection = self.data.get("detection")
        if not isinstance(detection, dict):
            return None
        for path, key in self.detection_keys(detection):
            value = self.lookup(path)
            try:
                SigmaDetectionItem.from_mapping(key, value)
            except Exception:
                return path
        for name, definition in detection.items():
            if name == "condition":
                continue
            try:
                SigmaDetection.from_definition(definition)
            except Exception:
                return ("detection", name)
        return None

    def lookup(self, path: KeyPath) -> Any:
        value = self.data
        for part in path:
            value = value[part]
        return value

    def compile_condition(self, rule: SigmaRule) -> Node:
        return self.compile_detections(rule.detection.detections, rule.detection.parsed_condition, "detection")

    def compile_detections(self, detections: Mapping[str, SigmaDetection], parsed: Sequence[Any],
                           section: str) -> Node:
        """The OR of the conditions of a detection (or filter) section, compiled to a node tree."""
        value_paths = self.value_paths(detections, section)
        cased = frozenset(key for key, path in value_paths.items()
                          if isinstance(path[-1], str) and ENCODING_MODIFIERS & set(path[-1].split("|")[1:]))
        compiler = ConditionCompiler(placeholders=self.options.placeholders, cased_ids=cased)
        conditions = self.data[section]["condition"]
        nodes = []
        for index, condition in enumerate(parsed):
            where = (section, "condition", index) if isinstance(conditions, list) else (section, "condition")
            try:
                tree = condition.parse()  # parsed once here; the compiled node tree is what is kept
            except SigmaError as exc:
                raise RuleProblems([self.error(str(exc.args[0]) if exc.args else str(exc), *where)]) from None
            if tree is None:
                raise RuleProblems([self.error("condition selects nothing", *where)])
            try:
                nodes.append(compiler.compile(tree))
            except UnsupportedFeature as exc:
                path = value_paths.get(id(exc.value), where) if exc.value is not None else where
                raise RuleProblems([self.error(exc.message, *path)]) from None
        return make_or(nodes)

    def value_paths(self, detections: Mapping[str, SigmaDetection], section: str) -> dict[int, KeyPath]:
        """Map each typed value object pySigma created to the key path it came from."""
        found: dict[int, KeyPath] = {}
        raw = self.data[section]
        for name, detection in detections.items():
            _walk_values(detection, raw.get(name), (section, name), found)
        return found

    def compiled(self, rule: SigmaRule, route: LogsourceRoute, condition: Node) -> CompiledRule:
        level = rule.level.name.lower() if rule.level is not None else None
        return CompiledRule(
            id=str(rule.id),
            title=rule.title,
            severity=LEVEL_SEVERITY.get(level, DEFAULT_SEVERITY) if level else DEFAULT_SEVERITY,
            tags=[str(tag) for tag in rule.tags],
            path=self.path,
            line=self.document.line_of(),
            logsource=Logsource(rule.logsource.category, rule.logsource.product, rule.logsource.service),
            route=route,
            condition=condition,
            description=(rule.description or "").strip(),
            falsepositives=[str(item) for item in rule.falsepositives or []],
            level=level,
            status=rule.status.name.lower() if rule.status is not None else None,
            references=[str(item) for item in rule.references or []],
            name=rule.name,
            title_vi=self.title_vi(),
            grouping=self.grouping(),
        )

    def title_vi(self) -> str | None:
        """The Vietnamese title (custom attribute ``title_vi``), shown first on the pages."""
        value = self.data.get("title_vi")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def grouping(self) -> str | None:
        """How the rule's alerts join incidents (custom attribute ``incident_grouping``), when it says."""
        value = self.data.get("incident_grouping")
        if value is None:
            return None
        if value not in GROUPING_MODES:
            raise RuleProblems([self.error(f"incident_grouping must be one of {', '.join(GROUPING_MODES)}, "
                                           f"not {value!r}", "incident_grouping")])
        return str(value)


def _walk_values(detection: SigmaDetection, raw: Any, path: KeyPath, found: dict[int, KeyPath]) -> None:
    keys = list(raw) if isinstance(raw, dict) else []
    for index, item in enumerate(detection.detection_items):
        if isinstance(item, SigmaDetection):
            child = raw[index] if isinstance(raw, list) and index < len(raw) else None
            _walk_values(item, child, (*path, index), found)
            continue
        item_path = (*path, keys[index]) if index < len(keys) else path
        for value in item.value:
            found[id(value)] = item_path

