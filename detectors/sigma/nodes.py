"""The compiled condition tree of a rule: boolean nodes over field tests, evaluated against one event."""

from __future__ import annotations

from abc import ABC, abstractmethod

from canhgac.core.model import Event
from canhgac.detectors.sigma.fieldmap import KEYWORD_FIELD, keyword_texts
from canhgac.detectors.sigma.values import RegexMatcher, ValueMatcher, as_text


class Node(ABC):
    """A part of a condition. ``matches`` is the per-event hot path: plain loops, no generator objects."""

    @abstractmethod
    def matches(self, event: Event) -> bool:
        """Whether the event satisfies this part of the condition."""

    def collect_fields(self, event: Event, found: set[str]) -> None:
        """Add the event fields whose (non-negated) tests match ``event``; used only to explain an alert."""


class AndNode(Node):
    def __init__(self, children: tuple[Node, ...]) -> None:
        self.children = children

    def matches(self, event: Event) -> bool:
        for child in self.children:  # noqa: SIM110 - a loop avoids a generator per evaluation
            if not child.matches(event):
                return False
        return True

    def collect_fields(self, event: Event, found: set[str]) -> None:
        for child in self.children:
            child.collect_fields(event, found)

    def __repr__(self) -> str:
        return f"And{list(self.children)}"


class OrNode(Node):
    def __init__(self, children: tuple[Node, ...]) -> None:
        self.children = children

    def matches(self, event: Event) -> bool:
        for child in self.children:  # noqa: SIM110 - a loop avoids a generator per evaluation
            if child.matches(event):
                return True
        return False

    def collect_fields(self, event: Event, found: set[str]) -> None:
        for child in self.children:
            child.collect_fields(event, found)

    def __repr__(self) -> str:
        return f"Or{list(self.children)}"


class NotNode(Node):
    def __init__(self, child: Node) -> None:
        self.child = child

    def matches(self, event: Event) -> bool:
        return not self.child.matches(event)

    def __repr__(self) -> str:
        return f"Not({self.child!r})"


class FieldNode(Node):
    """One event field tested by a value matcher (keyword detections test ``event.original``)."""

    def __init__(self, field: str, matcher: ValueMatcher) -> None:
        self.field = field
        self.matcher = matcher

    def matches(self, event: Event) -> bool:
        return self.matcher.test(event.get(self.field))

    def collect_fields(self, event: Event, found: set[str]) -> None:
        if self.matches(event):
            found.add(self.field)

    def __repr__(self) -> str:
        return f"{self.field}: {self.matcher!r}"


class KeywordNode(Node):
    """A field-less value: matches if any text field of the event (see ``keyword_texts``) matches."""

    field = KEYWORD_FIELD

    def __init__(self, matcher: ValueMatcher) -> None:
        self.matcher = matcher

    def matches(self, event: Event) -> bool:
        return self.matcher.test(keyword_texts(event))

    def collect_fields(self, event: Event, found: set[str]) -> None:
        for name in event:
            value = event[name]
            if name in found or not isinstance(value, str | list):
                continue
            if self.matcher.test(keyword_texts({name: value})):
                found.add(name)

    def __repr__(self) -> str:
        return f"keyword: {self.matcher!r}"


class FieldRefNode(Node):
    """``fieldref``: the field's value equals (starts with, ends with, contains) another field's value."""

    def __init__(self, field: str, other: str, *, starts_with: bool, ends_with: bool) -> None:
        self.field = field
        self.other = other
        self.starts_with = starts_with
        self.ends_with = ends_with

    def matches(self, event: Event) -> bool:
        values = _texts(event.get(self.field))
        references = _texts(event.get(self.other))
        return any(self._compare(value, reference) for value in values for reference in references)

    def _compare(self, value: str, reference: str) -> bool:
        if self.starts_with and self.ends_with:
            return reference in value
        if self.starts_with:
            return value.startswith(reference)
        if self.ends_with:
            return value.endswith(reference)
        return value == reference

    def collect_fields(self, event: Event, found: set[str]) -> None:
        if self.matches(event):
            found.update((self.field, self.other))

    def __repr__(self) -> str:
        return f"{self.field} ~ field {self.other}"


def _texts(value: object) -> list[str]:
    if value is None:
        return []
    items = value if type(value) is list else [value]
    return [as_text(item).lower() for item in items if item is not None]


def regex_matchers(node: Node) -> list[RegexMatcher]:
    """Every regex test in a condition tree (for ``rules lint`` and the adversarial benchmark)."""
    if isinstance(node, AndNode | OrNode):
        return [found for child in node.children for found in regex_matchers(child)]
    if isinstance(node, NotNode):
        return regex_matchers(node.child)
    if isinstance(node, FieldNode | KeywordNode) and isinstance(node.matcher, RegexMatcher):
        return [node.matcher]
    return []


def read_fields(node: Node) -> set[str]:
    """Every event field a condition tree reads (``KEYWORD_FIELD`` for a keyword test, which reads them all)."""
    if isinstance(node, AndNode | OrNode):
        return {name for child in node.children for name in read_fields(child)}
    if isinstance(node, NotNode):
        return read_fields(node.child)
    if isinstance(node, FieldRefNode):
        return {node.field, node.other}
    if isinstance(node, FieldNode | KeywordNode):
        return {node.field}
    return {KEYWORD_FIELD}  # a node of unknown kind: as if it read everything
