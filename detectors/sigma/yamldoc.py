"""Read the YAML documents of a rule file and remember the line of every key and list item.

pySigma reports errors without line numbers, so the loader keeps its own map from a key path
(``("detection", "selection", "cs-uri-query|contains")``) to its 1-based line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from canhgac.core.errors import RuleError
from canhgac.core.yamlpos import COMPOSER

KeyPath = tuple[Any, ...]

#: More nodes than this in one document means an alias bomb or a runaway file, not a rule.
MAX_NODES = 200_000


@dataclass
class YamlDocument:
    """One document of a YAML stream with the line of each key path."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, *path: Any) -> int | None:
        """The line of the deepest known prefix of ``path`` (the document's first line for ``()``)."""
        key: KeyPath = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())


def load_documents(text: str, filename: str) -> list[YamlDocument]:
    """Every non-empty document of ``text``; broken YAML raises a ``RuleError`` with its line."""
    try:
        roots = list(yaml.compose_all(text, Loader=COMPOSER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(f"not valid YAML: {problem}", file=filename, line=line) from None
    documents = []
    for root in roots:
        if root is None:
            continue
        builder = _Builder(filename)
        try:
            data = builder.convert(root, ())
        finally:
            builder.loader.dispose()
        documents.append(YamlDocument(data, builder.lines))
    return documents


class _Builder:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[KeyPath, int] = {}
        self.count = 0
        self.active: set[int] = set()
        self.loader = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise RuleError(f"document too large (more than {MAX_NODES} YAML nodes; alias expansion?)",
                            file=self.filename, line=node.start_mark.line + 1)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.active:
            raise RuleError("recursive YAML alias", file=self.filename, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.active.add(id(node))
            self.flatten(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise RuleError("mapping keys must be plain scalars", file=self.filename,
                                    line=key_node.start_mark.line + 1)
                child = (*path, key)
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self.convert(value_node, child)
            self.active.discard(id(node))
            return result
        if isinstance(node, yaml.SequenceNode):
            self.active.add(id(node))
            items = [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
            self.active.discard(id(node))
            return items
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise RuleError("mapping keys must be plain scalars", file=self.filename,
                            line=node.start_mark.line + 1)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise RuleError(f"not valid YAML: {exc}", file=self.filename, line=node.start_mark.line + 1) from None

    def flatten(self, node: yaml.MappingNode) -> None:
        """Resolve ``<<: *anchor`` merge keys the way PyYAML's own loader does."""
        try:
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            raise RuleError(f"not valid YAML: {exc}", file=self.filename, line=node.start_mark.line + 1) from None
