"""After every file is read: apply filters to their rules and resolve what correlations refer to."""

from __future__ import annotations

from collections.abc import Sequence

from canhgac.core.errors import RuleError
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.metaparse import FilterRule
from canhgac.detectors.sigma.rule import CompiledRule


def link(rules: Sequence[CompiledRule], correlations: Sequence[CorrelationRule],
         filters: Sequence[FilterRule]) -> tuple[list[CorrelationRule], list[RuleError]]:
    """Apply filters (in place) and return the correlations whose references all resolve, with the errors."""
    errors = [*_apply_filters(rules, filters)]
    by_ref: dict[str, CompiledRule | CorrelationRule] = {}
    for item in (*rules, *correlations):
        by_ref.setdefault(item.id, item)
        name = item.name if isinstance(item, CompiledRule) else item.meta.name
        if name:
            by_ref.setdefault(name, item)
    valid: dict[str, CorrelationRule] = {}
    for correlation in correlations:
        missing = [ref for ref in correlation.rule_refs if ref not in by_ref]
        if missing:
            errors.append(RuleError(f"correlation refers to rules that are not loaded: {', '.join(missing)}",
                                    file=str(correlation.path), line=correlation.refs_line, field="correlation.rules"))
            continue
        correlation.rule_ids = tuple(by_ref[ref].id for ref in correlation.rule_refs)
        correlation.aliases = {alias: {by_ref[ref].id if ref in by_ref else ref: name for ref, name in mapping.items()}
                               for alias, mapping in correlation.aliases.items()}
        valid[correlation.id] = correlation
    errors += _drop_broken_chains(valid, {rule.id for rule in rules})
    generating: dict[str, bool] = {}
    for correlation in valid.values():
        for rule_id in correlation.rule_ids:
            generating[rule_id] = generating.get(rule_id, False) or correlation.generate
    for rule in rules:
        rule.silent = rule.id in generating and not generating[rule.id]
    for correlation in valid.values():
        correlation.silent = correlation.id in generating and not generating[correlation.id]
    return list(valid.values()), errors


def _apply_filters(rules: Sequence[CompiledRule], filters: Sequence[FilterRule]) -> list[RuleError]:
    errors: list[RuleError] = []
    for item in filters:
        if item.targets is None:
            targets = [rule for rule in rules if rule.logsource.within(item.logsource)]
        else:
            targets = []
            for ref in item.targets:
                found = [rule for rule in rules if ref in (rule.id, rule.name)]
                if not found:
                    errors.append(RuleError(f"filter refers to a rule that is not loaded: {ref}",
                                            file=str(item.path), line=item.refs_line, field="filter.rules"))
                targets += [rule for rule in found if rule.logsource.within(item.logsource)]
        for rule in targets:
            rule.add_filter(item.id, item.condition)
    return errors


def _drop_broken_chains(valid: dict[str, CorrelationRule], base: set[str]) -> list[RuleError]:
    """Remove correlations that refer to a dropped correlation or take part in a cycle."""
    errors: list[RuleError] = []
    changed = True
    while changed:
        changed = False
        for correlation in list(valid.values()):
            bad = [ref for ref in correlation.rule_ids if ref not in base and ref not in valid]
            cyclic = _reaches(valid, correlation.id, correlation.id)
            if bad or cyclic:
                reason = "a correlation chain that loops back on itself" if cyclic else \
                    f"a correlation that did not load: {', '.join(bad)}"
                errors.append(RuleError(f"correlation refers to {reason}", file=str(correlation.path),
                                        line=correlation.refs_line, field="correlation.rules"))
                del valid[correlation.id]
                changed = True
    return errors


def _reaches(valid: dict[str, CorrelationRule], start: str, target: str) -> bool:
    stack = [ref for ref in valid[start].rule_ids if ref in valid]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack += [ref for ref in valid[current].rule_ids if ref in valid]
    return False
