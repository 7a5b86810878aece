"""Compile pySigma's parsed condition tree and typed values into our matcher objects.

pySigma parses (rule YAML, modifiers, condition grammar); this module only translates its result, so
evaluation never touches pySigma objects. Anything without a faithful translation raises
``UnsupportedFeature``, which the loader turns into a located ``RuleError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from canhgac.detectors.sigma.fieldmap import ecs_field
from canhgac.detectors.sigma.linear import compile_linear
from canhgac.detectors.sigma.nodes import AndNode, FieldNode, FieldRefNode, KeywordNode, Node, NotNode, OrNode
from canhgac.detectors.sigma.values import (
    BoolMatcher,
    CidrMatcher,
    CompareMatcher,
    ExistsMatcher,
    NullMatcher,
    NumberMatcher,
    RegexMatcher,
    StringPatterns,
    TimePartMatcher,
    ValueMatcher,
)
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)


class UnsupportedFeature(Exception):
    """A parsed construct this engine cannot evaluate; ``value`` (if any) lets the loader find its line."""

    def __init__(self, message: str, value: SigmaType | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.value = value


_COMPARE_OPS = {CompareOperators.LT: "lt", CompareOperators.LTE: "lte", CompareOperators.GT: "gt",
                CompareOperators.GTE: "gte", CompareOperators.NEQ: "neq"}
_REGEX_FLAGS = {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                SigmaRegularExpressionFlag.DOTALL: re.DOTALL}


class ConditionCompiler:
    """Turns one parsed condition (pySigma's postprocessed tree) into a ``Node``.

    ``placeholders`` gives the values of ``%name%`` placeholders (the ``expand`` modifier); ``cased_ids``
    holds the ids of pySigma value objects that must match case-sensitively although not marked ``cased``
    (the output of ``base64`` / ``base64offset``: the encoded text is case-significant).
    """

    def __init__(self, field_map: Callable[[str], str] = ecs_field, *,
                 placeholders: Mapping[str, Sequence[str]] | None = None,
                 cased_ids: frozenset[int] = frozenset()) -> None:
        self.field_map = field_map
        self.placeholders = placeholders or {}
        self.cased_ids = cased_ids

    def compile(self, tree: object) -> Node:
        if isinstance(tree, ConditionAND):
            return make_and([self.compile(arg) for arg in tree.args])
        if isinstance(tree, ConditionOR):
            return make_or([self.compile(arg) for arg in tree.args])
        if isinstance(tree, ConditionNOT):
            return make_not(self.compile(tree.args[0]))
        if isinstance(tree, ConditionFieldEqualsValueExpression):
            return self.field_test(self.field_map(tree.field), tree.value)
        if isinstance(tree, ConditionValueExpression):
            return self.keyword_test(tree.value)
        raise UnsupportedFeature(f"unsupported condition element {type(tree).__name__}")

    def field_test(self, field: str, value: SigmaType, cased: bool = False) -> Node:
        cased = cased or id(value) in self.cased_ids
        if isinstance(value, SigmaExpansion):
            return make_or([self.field_test(field, item, cased) for item in value.values])
        if isinstance(value, SigmaFieldReference):
            return FieldRefNode(field, self.field_map(value.field), starts_with=value.starts_with,
                                ends_with=value.ends_with)
        if isinstance(value, SigmaString) and value.contains_placeholder():
            return make_or([FieldNode(field, string_patterns(parts, cased=cased or isinstance(value, SigmaCasedString),
                                                             value=value))
                            for parts in self.expand(value)])
        return FieldNode(field, value_matcher(value, cased=cased))

    def expand(self, value: SigmaString) -> list[list[object]]:
        """Every variant of a string with its ``%placeholders%`` replaced by their configured values."""
        variants: list[list[object]] = [[]]
        for part in value.s:
            if not isinstance(part, Placeholder):
                variants = [[*variant, part] for variant in variants]
                continue
            values = self.placeholders.get(part.name)
            if not values:
                raise UnsupportedFeature(f"placeholder %{part.name}% has no values; list them under "
                                         f"detection.placeholders.{part.name} in the configuration", value)
            variants = [[*variant, *SigmaString(str(item)).s] for variant in variants for item in values]
        return variants

    def keyword_test(self, value: SigmaType, cased: bool = False) -> Node:
        """A field-less value: searched inside every text field, as Sigma keywords are full-text."""
        cased = cased or id(value) in self.cased_ids
        if isinstance(value, SigmaExpansion):
            return make_or([self.keyword_test(item, cased) for item in value.values])
        if isinstance(value, SigmaString):
            variants = self.expand(value) if value.contains_placeholder() else [list(value.s)]
            nodes: list[Node] = []
            for parts in variants:
                if not parts or parts[0] != SpecialChars.WILDCARD_MULTI:
                    parts.insert(0, SpecialChars.WILDCARD_MULTI)
                if parts[-1] != SpecialChars.WILDCARD_MULTI:
                    parts.append(SpecialChars.WILDCARD_MULTI)
                nodes.append(KeywordNode(string_patterns(parts, cased=cased or isinstance(value, SigmaCasedString),
                                                         value=value)))
            return make_or(nodes)
        if isinstance(value, SigmaRegularExpression):
            return KeywordNode(regex_matcher(value))
        if isinstance(value, SigmaNumber | SigmaBool) and not isinstance(value, SigmaTimestampPart):
            text = str(value).lower()
            return KeywordNode(StringPatterns(cased=False, infixes=[text]))
        raise UnsupportedFeature(f"a {_type_name(value)} value cannot be a keyword (field-less) detection", value)


def value_matcher(value: SigmaType, *, cased: bool = False) -> ValueMatcher:
    """The matcher for one typed value of a field detection item."""
    if isinstance(value, SigmaString):
        return string_patterns(list(value.s), cased=cased or isinstance(value, SigmaCasedString), value=value)
    if isinstance(value, SigmaRegularExpression):
        return regex_matcher(value)
    if isinstance(value, SigmaCIDRExpression):
        return CidrMatcher([value.network])
    if isinstance(value, SigmaCompareExpression):
        return CompareMatcher(_COMPARE_OPS[value.op], value.number.number)
    if isinstance(value, SigmaTimestampPart):
        return TimePartMatcher(value.timestamp_part.name.lower(), [int(value.number)])
    if isinstance(value, SigmaNumber):
        return NumberMatcher(value.number)
    if isinstance(value, SigmaBool):
        return BoolMatcher(value.boolean)
    if isinstance(value, SigmaNull):
        return NullMatcher()
    if isinstance(value, SigmaExists):
        return ExistsMatcher(value.exists)
    raise UnsupportedFeature(f"values of type {_type_name(value)} are not supported yet", value)


def string_patterns(parts: list[object], *, cased: bool, value: SigmaType) -> StringPatterns:
    """Classify a wildcard string: exact, prefix, suffix, infix, any value, or a regex for the rest."""
    pieces: list[str | SpecialChars] = []
    for part in parts:
        if isinstance(part, Placeholder):
            raise UnsupportedFeature(f"placeholder %{part.name}% is not supported yet", value)
        if isinstance(part, str):
            pieces.append(part if cased else part.lower())
        elif isinstance(part, SpecialChars):
            pieces.append(part)
    star = SpecialChars.WILDCARD_MULTI
    literals = [piece for piece in pieces if isinstance(piece, str)]
    specials = [piece for piece in pieces if not isinstance(piece, str)]
    if not specials:
        return StringPatterns(cased=cased, exact=["".join(literals)])
    if all(piece is star for piece in pieces):
        return StringPatterns(cased=cased, any_value=True)
    if len(literals) == 1 and all(special is star for special in specials):
        shape = tuple(piece is star for piece in pieces)
        literal = literals[0]
        if shape == (False, True):
            return StringPatterns(cased=cased, prefixes=[literal])
        if shape == (True, False):
            return StringPatterns(cased=cased, suffixes=[literal])
        if shape == (True, False, True):
            return StringPatterns(cased=cased, infixes=[literal])
    glob = "".join(re.escape(piece) if isinstance(piece, str) else (".*" if piece is star else ".")
                   for piece in pieces)
    return StringPatterns(cased=cased, globs=[glob], glob_literals=[max(literals, key=len) if literals else ""])


def regex_matcher(value: SigmaRegularExpression) -> RegexMatcher:
    if value.regexp.contains_placeholder():
        raise UnsupportedFeature("placeholders in regular expressions are not supported yet", value)
    flags = 0
    for flag in value.flags:
        flags |= _REGEX_FLAGS[flag]
    try:
        return RegexMatcher(compile_linear(str(value.regexp), flags))
    except re.error as exc:
        raise UnsupportedFeature(f"regular expression {str(value.regexp)!r} is not valid for Python's re: {exc}",
                                 value) from None


def make_and(children: list[Node]) -> Node:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, AndNode) else (child,))
    return flat[0] if len(flat) == 1 else AndNode(tuple(flat))


def make_or(children: list[Node]) -> Node:
    """OR the children, flattening nested ORs and merging same-field tests that combine into one matcher."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, OrNode) else (child,))
    merged: list[Node] = []
    for child in flat:
        if isinstance(child, KeywordNode):
            for index, earlier in enumerate(merged):
                if isinstance(earlier, KeywordNode):
                    combined = earlier.matcher.merge(child.matcher)
                    if combined is not None:
                        merged[index] = KeywordNode(combined)
                        break
            else:
                merged.append(child)
        elif isinstance(child, FieldNode):
            for index, earlier in enumerate(merged):
                if isinstance(earlier, FieldNode) and earlier.field == child.field:
                    combined = earlier.matcher.merge(child.matcher)
                    if combined is not None:
                        merged[index] = FieldNode(child.field, combined)
                        break
            else:
                merged.append(child)
        else:
            merged.append(child)
    return merged[0] if len(merged) == 1 else OrNode(tuple(merged))


def make_not(child: Node) -> Node:
    return child.child if isinstance(child, NotNode) else NotNode(child)


def _type_name(value: object) -> str:
    return type(value).__name__.removeprefix("Sigma")
