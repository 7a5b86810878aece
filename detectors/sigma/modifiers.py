"""Which Sigma value modifiers this engine evaluates, checked before a rule is compiled.

pySigma applies the modifiers to the values while parsing (``contains`` adds wildcards, ``base64offset``
and ``windash`` expand into alternatives, ``re`` makes a regular expression, ...); the engine then
evaluates the resulting typed values. A modifier pySigma knows but the engine cannot evaluate yet is
refused here, with the line of the detection key, instead of silently never matching.
"""

from __future__ import annotations

from sigma.modifiers import modifier_mapping

SUPPORTED_MODIFIERS: frozenset[str] = frozenset({
    "contains", "startswith", "endswith", "all",
    "re", "i", "ignorecase", "m", "multiline", "s", "dotall",
    "cidr", "exists", "cased", "neq", "fieldref",
    "lt", "lte", "gt", "gte",
    "base64", "base64offset", "wide", "utf16", "utf16be", "windash",
})

#: Known to pySigma, refused here, with the reason shown to the rule author.
UNSUPPORTED_MODIFIERS: dict[str, str] = {
    "expand": "placeholder expansion needs a value source the engine does not have yet",
    "minute": "timestamp part modifiers are not supported yet",
    "hour": "timestamp part modifiers are not supported yet",
    "day": "timestamp part modifiers are not supported yet",
    "week": "timestamp part modifiers are not supported yet",
    "month": "timestamp part modifiers are not supported yet",
    "year": "timestamp part modifiers are not supported yet",
}


def modifier_problem(name: str) -> str | None:
    """Why the modifier ``name`` cannot be used, or None if the engine evaluates it."""
    if name in SUPPORTED_MODIFIERS:
        return None
    if name in UNSUPPORTED_MODIFIERS:
        return f"modifier '{name}' is not supported: {UNSUPPORTED_MODIFIERS[name]}"
    if name in modifier_mapping:
        return f"modifier '{name}' is not supported yet"
    known = ", ".join(sorted(SUPPORTED_MODIFIERS))
    return f"unknown modifier '{name}' (supported: {known})"
