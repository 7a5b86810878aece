"""Find rule files, load each one, and collect every problem instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from canhgac.core.errors import RuleError
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.linker import link
from canhgac.detectors.sigma.metaparse import CorrelationParser, FilterParser, FilterRule
from canhgac.detectors.sigma.parse import ParseOptions, RuleParser, RuleProblems
from canhgac.detectors.sigma.rule import CompiledRule
from canhgac.detectors.sigma.yamldoc import YamlDocument, load_documents

Loaded = CompiledRule | CorrelationRule | FilterRule

RULE_SUFFIXES = (".yml", ".yaml")
#: Test fixtures that sit next to the rules (``<name>.tests.yml``); never loaded as rules.
FIXTURE_SUFFIXES = (".tests.yml", ".tests.yaml")


@dataclass
class LoadedRules:
    """Detection rules, correlations and filters that loaded, and a located error for everything that did not."""

    rules: list[CompiledRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    correlations: list[CorrelationRule] = field(default_factory=list)
    filters: list[FilterRule] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rules) + len(self.correlations) + len(self.filters)


def builtin_rules_dir() -> Path:
    """The rule pack shipped with Canh Gác (package data of ``canhgac.rules``, the repository's ``rules/``)."""
    return Path(str(resources.files("canhgac.rules")))


def is_fixture(path: Path) -> bool:
    return path.name.endswith(FIXTURE_SUFFIXES)


def load_rules(paths: Sequence[Path], options: ParseOptions | None = None) -> LoadedRules:
    """Load every rule under ``paths`` (files, or directories walked recursively).

    A file that cannot be loaded is reported in ``errors`` and never stops the others; a rule id seen
    twice is reported at its second occurrence. Correlations are linked to the rules they name and
    filters applied to theirs once every file is read.
    """
    result = LoadedRules()
    seen: dict[str, Loaded] = {}
    files: set[Path] = set()
    for path in _rule_files(paths, result.errors):
        if path.resolve() in files:  # named twice, e.g. a folder and a file inside it
            continue
        files.add(path.resolve())
        result.files.append(path)
        items, errors = load_rule_file(path, options)
        result.errors.extend(errors)
        for item in items:
            first = seen.get(item.id)
            if first is not None:
                result.errors.append(RuleError(f"duplicate rule id {item.id}, first defined in {first.path}",
                                               file=str(item.path), line=item.line, field="id"))
                continue
            seen[item.id] = item
            if isinstance(item, CorrelationRule):
                result.correlations.append(item)
            elif isinstance(item, FilterRule):
                result.filters.append(item)
            else:
                result.rules.append(item)
    result.correlations, link_errors = link(result.rules, result.correlations, result.filters)
    result.errors.extend(link_errors)
    return result


def parse_document(path: Path, document: YamlDocument, options: ParseOptions | None = None) -> Loaded:
    """A detection rule, a correlation or a filter, by the document's marker key."""
    data = document.data
    if isinstance(data, dict) and "correlation" in data:
        return CorrelationParser(path, document, options).build()
    if isinstance(data, dict) and "filter" in data:
        return FilterParser(path, document, options).build()
    return RuleParser(path, document, options).build()


def load_rule_file(path: Path, options: ParseOptions | None = None) -> tuple[list[Loaded], list[RuleError]]:
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
    rules: list[Loaded] = []
    errors: list[RuleError] = []
    for document in documents:
        try:
            rules.append(parse_document(path, document, options))
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
