"""Correlation and filter documents: pySigma parses them, these parsers check what streaming needs.

References to other rules stay as written here; the loader resolves them once every file is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.fieldmap import ecs_field
from canhgac.detectors.sigma.nodes import Node
from canhgac.detectors.sigma.parse import RuleParser, RuleProblems
from canhgac.detectors.sigma.rule import DEFAULT_SEVERITY, LEVEL_SEVERITY, Logsource, RuleMeta
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter

SUPPORTED_TYPES = ("event_count", "value_count", "value_sum", "value_avg", "temporal", "temporal_ordered")
#: Operators a streaming window can decide when an event arrives (a "fewer than" needs the window to close).
TYPE_OPERATORS = {
    "event_count": {"gt", "gte", "eq"}, "value_count": {"gt", "gte", "eq"}, "value_sum": {"gt", "gte", "eq"},
    "value_avg": {"gt", "gte", "lt", "lte", "eq"}, "temporal": {"gt", "gte", "eq"}, "temporal_ordered": {"gte"},
}
REFUSED_TYPES = {
    "value_percentile": "needs every value of the window kept and sorted on each event",
    "value_median": "needs every value of the window kept and sorted on each event",
    "temporal_extended": "use type temporal with an extended (boolean) condition",
    "temporal_ordered_extended": "ordered boolean conditions are not supported; list the rules in order",
}


@dataclass(eq=False)
class FilterRule:
    """A Sigma filter: its condition is ANDed into every rule it targets (``any``: all of its log source)."""

    id: str
    title: str
    path: Path
    line: int | None
    logsource: Logsource
    targets: tuple[str, ...] | None  # None: any rule of the log source
    condition: Node
    refs_line: int | None = None


class CorrelationParser(RuleParser):
    def build(self) -> CorrelationRule:  # type: ignore[override]
        self.check_document()
        problems = list(self.check_id())
        spec = self.data.get("correlation")
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(kind, str) and kind.lower() in REFUSED_TYPES:
            problems.append(self.error(f"correlation type '{kind}' is not supported: {REFUSED_TYPES[kind.lower()]}",
                                       "correlation", "type"))
        if problems:
            raise RuleProblems(problems)
        try:
            rule = SigmaCorrelationRule.from_dict(self.data, collect_errors=True, source=SigmaRuleLocation(self.path))
        except SigmaError as exc:
            raise RuleProblems([self.located(exc)]) from None
        if rule.errors:
            raise RuleProblems([self.located(error) for error in rule.errors])
        return self.compile_correlation(rule)

    def compile_correlation(self, rule: SigmaCorrelationRule) -> CorrelationRule:
        kind = rule.type.name.lower()
        refs = tuple(reference.reference for reference in rule.rules or [])
        if not refs:
            raise RuleProblems([self.error("correlation lists no rules", "correlation", "rules")])
        op, threshold, value_field, expression, text = self.condition(rule, kind, refs)
        level = rule.level.name.lower() if rule.level is not None else None
        meta = RuleMeta(id=str(rule.id), title=rule.title,
                        severity=LEVEL_SEVERITY.get(level, DEFAULT_SEVERITY) if level else DEFAULT_SEVERITY,
                        tags=tuple(str(tag) for tag in rule.tags), title_vi=self.title_vi(), name=rule.name,
                        grouping=self.grouping())
        aliases = {alias.alias: {ref.reference: ecs_field(name) for ref, name in alias.mapping.items()}
                   for alias in rule.aliases}
        group_by = tuple(name if name in aliases else ecs_field(name) for name in rule.group_by or [])
        if value_field is not None and value_field not in aliases:
            value_field = ecs_field(value_field)
        return CorrelationRule(
            meta=meta, path=self.path, line=self.document.line_of(), kind=kind, rule_refs=refs, group_by=group_by,
            span_seconds=rule.timespan.seconds, timespan=rule.timespan.spec, op=op, threshold=threshold,
            value_field=value_field, aliases=aliases, generate=bool(rule.generate), expression=expression,
            expression_text=text, description=(rule.description or "").strip(),
            falsepositives=[str(item) for item in rule.falsepositives or []], level=level,
            references=[str(item) for item in rule.references or []],
            refs_line=self.document.line_of("correlation", "rules"))

    def condition(self, rule: SigmaCorrelationRule, kind: str,
                  refs: tuple[str, ...]) -> tuple[str, float, str | None, Any, str | None]:
        where = ("correlation", "condition")
        condition = rule.condition
        if isinstance(condition, SigmaExtendedCorrelationCondition):
            if kind != "temporal":
                raise RuleProblems([self.error("extended conditions are supported for temporal correlations only",
                                               *where)])
            return "gte", 1, None, _expression(condition.parsed, refs), condition.expression
        if not isinstance(condition, SigmaCorrelationCondition):  # temporal without a condition: all rules
            return "gte", len(refs), None, None, None
        op = condition.op.name.lower()
        if op not in TYPE_OPERATORS[kind]:
            allowed = ", ".join(sorted(TYPE_OPERATORS[kind]))
            raise RuleProblems([self.error(f"condition '{op}' cannot be decided on a sliding {kind} window as "
                                           f"events arrive (supported: {allowed})", *where)])
        if kind == "temporal_ordered" and condition.count != len(refs):
            raise RuleProblems([self.error("an ordered correlation needs every listed rule (gte: "
                                           f"{len(refs)})", *where)])
        field = condition.fieldref
        if isinstance(field, list):
            raise RuleProblems([self.error("one condition field is supported", *where)])
        return op, float(condition.count), field, None, None


def _expression(tree: Any, refs: tuple[str, ...]) -> Any:
    """A function of the set of present rule indexes, from pySigma's parsed extended condition."""
    if isinstance(tree, SigmaRuleReference):
        index = refs.index(tree.reference)
        return lambda present: index in present
    parts = [_expression(arg, refs) for arg in tree.args]
    if isinstance(tree, CorrelationConditionAND):
        return lambda present: all(part(present) for part in parts)
    if isinstance(tree, CorrelationConditionOR):
        return lambda present: any(part(present) for part in parts)
    if isinstance(tree, CorrelationConditionNOT):
        return lambda present: not parts[0](present)
    raise RuleProblems([])


class FilterParser(RuleParser):
    def build(self) -> FilterRule:  # type: ignore[override]
        self.check_document()
        problems = list(self.check_id())
        if problems:
            raise RuleProblems(problems)
        try:
            parsed = SigmaFilter.from_dict(self.data, collect_errors=True, source=SigmaRuleLocation(self.path))
        except SigmaError as exc:
            raise RuleProblems([self.located(exc)]) from None
        if parsed.errors:
            raise RuleProblems([self.located(error) for error in parsed.errors])
        section = parsed.filter
        condition = self.compile_detections(section.detections, section.parsed_condition, "filter")
        targets = None if isinstance(section.rules, str) else tuple(ref.reference for ref in section.rules)
        source = parsed.logsource
        return FilterRule(id=str(parsed.id), title=parsed.title, path=self.path, line=self.document.line_of(),
                          logsource=Logsource(source.category, source.product, source.service), targets=targets,
                          condition=condition, refs_line=self.document.line_of("filter", "rules"))
