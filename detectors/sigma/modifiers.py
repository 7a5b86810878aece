"""Which Sigma value modifiers this engine evaluates, checked before a rule is compiled.

pySigma applies the modifiers to the values while parsing (``contains`` adds wildcards, ``base64offset``
and ``windash`` expand into alternatives, ``re`` makes a regular expression, ``hour`` makes a timestamp
part, ...); the engine then evaluates the resulting typed values. Every modifier of Sigma v2.1 is
supported; an unknown name is refused with the line of its detection key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sigma.modifiers import modifier_mapping

SUPPORTED_MODIFIERS: frozenset[str] = frozenset({
    "contains", "startswith", "endswith", "all",
    "re", "i", "ignorecase", "m", "multiline", "s", "dotall",
    "cidr", "exists", "cased", "neq", "fieldref", "expand",
    "lt", "lte", "gt", "gte",
    "base64", "base64offset", "wide", "utf16", "utf16le", "utf16be", "windash",
    "minute", "hour", "day", "week", "month", "year",
})

#: Names of the specification that pySigma spells differently; rewritten before pySigma parses the rule.
MODIFIER_ALIASES: Mapping[str, str] = MappingProxyType({"utf16le": "wide"})

#: Modifiers whose output is encoded text, matched case-sensitively (base64 alphabets are case-significant).
ENCODING_MODIFIERS: frozenset[str] = frozenset({"base64", "base64offset"})


def modifier_problem(name: str) -> str | None:
    """Why the modifier ``name`` cannot be used, or None if the engine evaluates it."""
    if name in SUPPORTED_MODIFIERS:
        return None
    if name in modifier_mapping:
        return f"modifier '{name}' is not supported yet"
    known = ", ".join(sorted(SUPPORTED_MODIFIERS))
    return f"unknown modifier '{name}' (supported: {known})"


def canonical_key(key: str) -> str:
    """``field|utf16le|base64`` → ``field|wide|base64``: the key as pySigma expects it."""
    name, *modifiers = key.split("|")
    return "|".join([name, *(MODIFIER_ALIASES.get(modifier, modifier) for modifier in modifiers)])
