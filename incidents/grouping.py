"""Which alerts belong together: the configured fingerprint, and suppressions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from canhgac.core.directory import Directory
from canhgac.core.model import Alert, Suppression

_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
_TACTIC = re.compile(r"^[a-z]+(_[a-z]+)*$")


def fingerprint(alert: Alert, parts: Sequence[str]) -> str:
    """``rule``, ``agency`` and ``system`` name the alert's own fields; anything else is an entity field."""
    values = []
    for part in parts:
        if part == "rule":
            values.append(alert.rule_id)
        elif part == "agency":
            values.append(alert.agency)
        elif part == "system":
            values.append(alert.system or "")
        else:
            values.append(alert.entities.get(part, ""))
    return "|".join(values)


def suppressed_by(alert: Alert, suppressions: Sequence[Suppression], directory: Directory) -> Suppression | None:
    for suppression in suppressions:
        if suppression.rule_id is not None and suppression.rule_id != alert.rule_id:
            continue
        if suppression.agency is not None and (suppression.agency not in directory.agencies or
                                               alert.agency not in directory.subtree(suppression.agency)):
            continue
        if all(alert.entities.get(name) == value for name, value in suppression.entities.items()):
            return suppression
    return None


def attack_from_tags(tags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Sigma ``attack.*`` tags → (tactics, techniques): ``attack.initial_access``, ``attack.t1190`` → T1190.

    Group and software tags (``attack.g0007``, ``attack.s0002``) are neither.
    """
    tactics: set[str] = set()
    techniques: set[str] = set()
    for tag in tags:
        name = tag.lower().removeprefix("attack.")
        if name == tag.lower():
            continue
        if _TECHNIQUE.match(name):
            techniques.add(name.upper())
        elif _TACTIC.match(name):
            tactics.add(name.replace("_", "-"))
    return sorted(tactics), sorted(techniques)
