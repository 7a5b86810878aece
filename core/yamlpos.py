"""Load YAML and remember the line of every key and item, so errors can name it."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]
#: libyaml's parser when PyYAML was built with it: its nodes carry the same marks, ~10× sooner than Python's.
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_lines(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Return the document and a map from a key path (``("agencies", 2, "level")``) to its 1-based line."""
    from canhgac.core.errors import ConfigError

    try:
        root = yaml.compose(text, Loader=COMPOSER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=filename, line=line) from None
    lines: dict[Path, int] = {}
    if root is None:
        return None, lines
    loader = yaml.SafeLoader("")  # one constructor for every scalar (making one per scalar cost more than parsing)
    try:
        value = _convert(root, (), lines, loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=filename) from None
    finally:
        loader.dispose()
    return value, lines


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines, loader)
            lines[child] = key_node.start_mark.line + 1  # the key's line, not its value's
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), lines, loader) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def line_of(lines: dict[Path, int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest known prefix of ``loc``."""
    path: tuple[Any, ...] = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
