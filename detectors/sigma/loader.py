"""Find rule files, load each one, and collect every problem instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from canhgac.errors import RuleError
from detectors.sigma.parse import RuleParser, RuleProblems
from detectors.sigma.rule import CompiledRule
from detectors.sigma.yamldoc import load_documents

RULE_SUFFIXES = (".yml", ".yaml")
#: Test fixtures that sit next to the rules (``<name>.tests.yml``); never loaded as rules.
FIXTURE_SUFFIXES = (".tests.yml", ".tests.yaml")


@dataclass
class LoadedRules:
    rules: list[CompiledRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)


def builtin_rules_dir() -> Path:
    """The rule pack shipped with Canh Gác (the repository's ``rules/`` directory)."""
    return Path(__file__).resolve().parents[2] / "rules"


def is_fixture(path: Path) -> bool:
    return path.name.endswith(FIXTURE_SUFFIXES)


def load_rules(paths: Sequence[Path]) -> LoadedRules:
    """Load every rule under ``paths`` (files, or directories walked recursively).

    A file that cannot be loaded is reported in ``errors`` and never stops the others; a rule id seen
    twice is reported at its second occurrence.
    """
    result = LoadedRules()
    seen: dict[str, CompiledRule] = {}
    files: set[Path] = set()
    for path in _rule_files(paths, result.errors):
        if path.resolve() in files:  # named twice, e.g. a folder and a file inside it
            continue
        files.add(path.resolve())
        rules, errors = load_rule_file(path)
        result.errors.extend(errors)
        for rule in rules:
            first = seen.get(rule.id)
            if first is not None:
                result.errors.append(RuleError(f"duplicate rule id {rule.id}, first defined in {first.path}",
                                               file=str(rule.path), line=rule.line, field="id"))
                continue
            seen[rule.id] = rule
            result.rules.append(rule)
    return result


def load_rule_file(path: Path) -> tuple[list[CompiledRule], list[RuleError]]:
    """The rules of one file and the problems found in it."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [RuleError(f"cannot read rule file: {exc}", file=name)]
    try:
        documents = load_documents(text, name)
    except RuleError as exc:
        return [], [exc]
    if not documents:
        return [], [RuleError("rule file is empty", file=name)]
    rules: list[CompiledRule] = []
    errors: list[RuleError] = []
    for document in documents:
        try:
            rules.append(RuleParser(path, document).build())
        except RuleProblems as exc:
            errors.extend(exc.errors)
        except Exception as exc:  # a parser bug or odd input must cost one rule, never the whole load
            errors.append(RuleError(f"could not load rule: {type(exc).__name__}: {exc}", file=name,
                                    line=document.line_of()))
    return rules, errors


def _rule_files(paths: Sequence[Path], errors: list[RuleError]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
            yield from sorted(p for p in found if not is_fixture(p))
        elif not path.exists():
            errors.append(RuleError("no such rule file or directory", file=str(path)))
        elif is_fixture(path):
            continue
        elif path.suffix not in RULE_SUFFIXES:
            errors.append(RuleError(f"not a rule file (expected {' or '.join(RULE_SUFFIXES)})", file=str(path)))
        else:
            yield path
