"""Shared structures that decide which rules an event can possibly match, before any rule is evaluated.

For each rule the compiler's tree yields a *requirement*: a set of anchors at least one of which must be
present for the condition to hold — an exact field value (looked up in a hash map) or a literal inside a
field (found by one Aho-Corasick automaton per field, or one over the keyword text). Rules without a
useful requirement (negations only, CIDR or numeric tests, regexes without a literal) are evaluated on
every event of their log source. See docs/decisions/0012-prefilter.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick
from canhgac.core.model import Event
from canhgac.detectors.sigma.fieldmap import KEYWORD_FIELD, keyword_texts
from canhgac.detectors.sigma.literals import fold, literal_score, regex_literals
from canhgac.detectors.sigma.nodes import AndNode, FieldNode, KeywordNode, Node, OrNode
from canhgac.detectors.sigma.values import RegexMatcher, StringPatterns, ValueMatcher, as_text

#: Literals shorter than this occur in too many events to be worth looking for.
MIN_LITERAL = 3
#: An exact value is looked up in a hash map: as selective as a long literal ...
EXACT_SCORE = 64
#: ... except in fields with a handful of values, where "GET" or "200" is in nearly every event.
FEW_VALUED_FIELDS = frozenset({
    "http.request.method", "http.response.status_code", "http.version", "event.outcome", "event.action",
    "event.category", "event.type", "event.kind", "event.module", "event.dataset", "network.protocol",
    "network.transport", "labels.ssh_method", "url.scheme",
})


@dataclass(frozen=True)
class Anchor:
    """``exact``: the field's folded value equals ``text``; otherwise ``text`` occurs in the folded value."""

    field: str
    text: str
    exact: bool = False

    @property
    def score(self) -> int:
        if self.field in FEW_VALUED_FIELDS:
            return 0
        return EXACT_SCORE if self.exact else literal_score(self.text)


Requirement = frozenset[Anchor]


def requirement(node: Node) -> Requirement | None:
    """Anchors one of which every event matching ``node`` has, or None when no useful set is certain."""
    if isinstance(node, FieldNode | KeywordNode):
        return _matcher_requirement(node.field, node.matcher)
    if isinstance(node, AndNode):
        options = [found for child in node.children if (found := requirement(child)) is not None]
        return max(options, key=_rank) if options else None
    if isinstance(node, OrNode):
        union: set[Anchor] = set()
        for child in node.children:
            found = requirement(child)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    return None  # NOT, field references: absence or inequality has no literal to look for


def _rank(found: Requirement) -> tuple[int, int]:
    return min(anchor.score for anchor in found), -len(found)


def _matcher_requirement(field: str, matcher: ValueMatcher) -> Requirement | None:
    if isinstance(matcher, RegexMatcher):
        literals = regex_literals(matcher.pattern.python)
        return None if literals is None else frozenset(Anchor(field, text) for text in literals)
    if not isinstance(matcher, StringPatterns) or matcher.any_value:
        return None
    anchors = {Anchor(field, fold(value), exact=field != KEYWORD_FIELD) for value in matcher.exact}
    for literal in (*matcher.prefixes, *matcher.suffixes, *matcher.infixes, *matcher.glob_literals):
        anchors.add(Anchor(field, fold(literal)))
    return frozenset(anchors)


def useful(found: Requirement | None) -> bool:
    return found is not None and bool(found) and min(anchor.score for anchor in found) >= MIN_LITERAL


class Prefilter:
    """Rules (by index into ``conditions``) an event can match, from hash maps and automata.

    ``hits`` gives the anchored rules whose anchors occur; ``always`` lists the rules without a useful
    requirement, which the caller evaluates on every event of their log source.
    """

    def __init__(self, conditions: Sequence[Node]) -> None:
        exact: dict[str, dict[str, set[int]]] = {}
        words: dict[str, dict[str, set[int]]] = {}
        always: list[int] = []
        for index, condition in enumerate(conditions):
            found = requirement(condition)
            if found is None or not useful(found):
                always.append(index)
                continue
            for anchor in found:
                table = exact if anchor.exact else words
                table.setdefault(anchor.field, {}).setdefault(anchor.text, set()).add(index)
        self.always = tuple(always)
        self.exact = tuple((field, {text: tuple(sorted(ids)) for text, ids in values.items()})
                           for field, values in exact.items())
        automata: list[tuple[str, ahocorasick.Automaton]] = []
        self.keywords: ahocorasick.Automaton | None = None
        for field, literals in words.items():
            automaton = ahocorasick.Automaton()
            for text, ids in literals.items():
                automaton.add_word(text, tuple(sorted(ids)))
            automaton.make_automaton()
            if field == KEYWORD_FIELD:
                self.keywords = automaton
            else:
                automata.append((field, automaton))
        self.automata = tuple(automata)
        self.anchored = len(conditions) - len(always)

    def hits(self, event: Event) -> set[int]:
        """Anchored rules at least one of whose anchors occurs in the event."""
        hits: set[int] = set()
        for field, values in self.exact:
            value = event.get(field)
            if value is None:
                continue
            for item in value if type(value) is list else (value,):
                text = item.lower() if type(item) is str else as_text(item).lower()
                found = values.get(text if text.isascii() else fold(text))
                if found:
                    hits.update(found)
        for field, automaton in self.automata:
            value = event.get(field)
            if value is None:
                continue
            for item in value if type(value) is list else (value,):
                text = item.lower() if type(item) is str else as_text(item).lower()
                for _, found in automaton.iter(text if text.isascii() else fold(text)):
                    hits.update(found)
        if self.keywords is not None:
            text = "\n".join(keyword_texts(event)).lower()
            for _, found in self.keywords.iter(text if text.isascii() else fold(text)):
                hits.update(found)
        return hits
