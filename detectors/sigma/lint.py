"""``canhgac rules lint``: problems that do not stop a rule from loading but make it worse to run or read.

Each check is a small function registered in ``CHECKS``; an issue has a severity (``warning`` for what a
reviewer should fix, ``note`` for what is worth knowing) and the rule's file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.fixtures import fixture_path
from canhgac.detectors.sigma.loader import LoadedRules
from canhgac.detectors.sigma.nodes import regex_matchers
from canhgac.detectors.sigma.prefilter import requirement, useful
from canhgac.detectors.sigma.rule import CompiledRule

ATTACK_TAG = re.compile(r"^attack\.t\d{4}(\.\d{3})?$")
Item = CompiledRule | CorrelationRule


@dataclass(frozen=True)
class LintIssue:
    severity: str  # "warning" | "note"
    path: Path
    line: int | None
    rule_id: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: [{self.rule_id}] {self.message}"


def _tags(item: Item) -> tuple[str, ...]:
    return tuple(item.tags) if isinstance(item, CompiledRule) else item.meta.tags


def _attack(item: Item) -> Iterator[tuple[str, str]]:
    if not any(ATTACK_TAG.match(tag) for tag in _tags(item)):
        yield "warning", "no ATT&CK technique tag (attack.tNNNN)"


def _falsepositives(item: Item) -> Iterator[tuple[str, str]]:
    if not item.falsepositives:
        yield "warning", "no falsepositives: say when the rule fires on legitimate activity"


def _level(item: Item) -> Iterator[tuple[str, str]]:
    if item.level is None:
        yield "warning", "no level: alerts get the default severity (medium)"


def _description(item: Item) -> Iterator[tuple[str, str]]:
    if len(item.description) < 40:
        yield "warning", "description missing or too short for an analyst to act on"


def _vietnamese(item: Item) -> Iterator[tuple[str, str]]:
    title_vi = item.title_vi if isinstance(item, CompiledRule) else item.meta.title_vi
    if not title_vi:
        yield "note", "no title_vi: incidents will carry the English title on Vietnamese pages"


def _fixtures(item: Item) -> Iterator[tuple[str, str]]:
    if not fixture_path(item.path).is_file():
        yield "warning", f"no fixture file {fixture_path(item.path).name} with match and no_match events"


def _cost(item: Item) -> Iterator[tuple[str, str]]:
    if isinstance(item, CompiledRule) and not useful(requirement(item.condition)):
        yield "note", "no literal the prefilter can look for: evaluated on every event of its log source"


def _slow_regex(item: Item) -> Iterator[tuple[str, str]]:
    if not isinstance(item, CompiledRule):
        return
    for matcher in regex_matchers(item.condition):
        if matcher.pattern.fallback_reason:
            yield "warning", (f"regex {matcher.pattern.source!r} runs on Python re, not the linear-time RE2 "
                              f"({matcher.pattern.fallback_reason}): crafted input can make it slow")


RESPONSE_KEYS = ("response_vi", "response")


def _document(item: Item) -> dict[str, object] | None:
    """The rule's own YAML document, for the custom attributes the parsed rule does not keep."""
    try:
        documents = list(yaml.safe_load_all(item.path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError):
        return None
    return next((doc for doc in documents if isinstance(doc, dict) and str(doc.get("id")) == item.id), {})


def _response(item: Item) -> Iterator[tuple[str, str]]:
    """The response guide (what the analyst should check and do) in Vietnamese and English, read from the file."""
    document = _document(item)
    if document is None:
        return
    missing = [key for key in RESPONSE_KEYS if not str(document.get(key) or "").strip()]
    if missing:
        yield "warning", f"no response guide ({', '.join(missing)}): say what the analyst should check and do"


def _vietnamese_text(item: Item) -> Iterator[tuple[str, str]]:
    """``description_vi`` and ``falsepositives_vi`` (one item per English one, same order) for Vietnamese pages."""
    document = _document(item)
    if document is None:
        return
    if not str(document.get("description_vi") or "").strip():
        yield "warning", "no description_vi: Vietnamese pages will show the English description"
    translated = document.get("falsepositives_vi")
    if translated is None:
        if item.falsepositives:
            yield "warning", "no falsepositives_vi: Vietnamese pages will show the English false positives"
    elif not isinstance(translated, list):
        yield "warning", "falsepositives_vi is not a list: give one item per falsepositives item, in the same order"
    elif len(translated) != len(item.falsepositives):
        yield "warning", (f"falsepositives_vi has {len(translated)} item(s), falsepositives has "
                          f"{len(item.falsepositives)}: translate each one, in the same order")


CHECKS: tuple[Callable[[Item], Iterator[tuple[str, str]]], ...] = (
    _attack, _falsepositives, _level, _description, _vietnamese, _fixtures, _cost, _slow_regex,
    _response, _vietnamese_text,
)


def lint(loaded: LoadedRules) -> list[LintIssue]:
    issues: list[LintIssue] = []
    titles: dict[str, Item] = {}
    for item in (*loaded.rules, *loaded.correlations):
        for check in CHECKS:
            for severity, message in check(item):
                issues.append(LintIssue(severity, item.path, item.line, item.id, message))
        first = titles.setdefault(item.title.lower(), item)
        if first is not item:
            issues.append(LintIssue("warning", item.path, item.line, item.id,
                                    f"same title as {first.path}: alerts and incidents will be confused"))
    return issues
