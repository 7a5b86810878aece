"""MITRE ATT&CK names shipped with Canh Gác (``data/attack.json``, made by ``data/build_attack.py``).

Rules tag techniques and tactics the Sigma way (``attack.t1110.001``, ``attack.credential_access``); these
helpers turn tags into ATT&CK ids, names and links without any network access.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

TECHNIQUE_URL = "https://attack.mitre.org/techniques/{}/"
TACTIC_URL = "https://attack.mitre.org/tactics/{}/"


@dataclass(frozen=True)
class AttackData:
    version: str
    techniques: dict[str, str]  # T1110.001 → "Brute Force: Password Guessing"
    technique_tactics: dict[str, list[str]]  # T1110.001 → ["credential-access"]
    tactics: dict[str, str]  # credential-access → "Credential Access"
    tactic_ids: dict[str, str]  # credential-access → TA0006


@cache
def attack_data() -> AttackData:
    raw: dict[str, Any] = json.loads(resources.files("canhgac.core").joinpath("data/attack.json").read_text("utf-8"))
    return AttackData(version=raw["version"],
                      techniques={tid: t["name"] for tid, t in raw["techniques"].items()},
                      technique_tactics={tid: t["tactics"] for tid, t in raw["techniques"].items()},
                      tactics={short: t["name"] for short, t in raw["tactics"].items()},
                      tactic_ids={short: t["id"] for short, t in raw["tactics"].items()})


def technique_url(technique_id: str) -> str:
    return TECHNIQUE_URL.format(technique_id.replace(".", "/"))


def technique_ref(technique_id: str) -> dict[str, str | None]:
    """``{"id", "name", "url"}``; the name is None for an id this ATT&CK version does not know."""
    return {"id": technique_id, "name": attack_data().techniques.get(technique_id), "url": technique_url(technique_id)}


def tactic_ref(shortname: str) -> dict[str, str | None]:
    """``{"id": shortname, "name", "url"}`` for a tactic shortname such as ``credential-access``."""
    data = attack_data()
    tactic_id = data.tactic_ids.get(shortname)
    return {"id": shortname, "name": data.tactics.get(shortname),
            "url": TACTIC_URL.format(tactic_id) if tactic_id else None}


def from_tags(tags: Iterable[str]) -> tuple[list[str], list[str]]:
    """Sigma ATT&CK tags → (technique ids, tactic shortnames), sorted and without repeats."""
    techniques: set[str] = set()
    tactics: set[str] = set()
    known_tactics = attack_data().tactics
    for tag in tags:
        lowered = tag.lower()
        if not lowered.startswith("attack."):
            continue
        value = lowered.removeprefix("attack.")
        if value[:1] == "t" and value[1:5].isdigit():
            techniques.add(value.upper())
        elif value.replace("_", "-") in known_tactics:
            tactics.add(value.replace("_", "-"))
    return sorted(techniques), sorted(tactics)


def attack_refs(technique_ids: Iterable[str], tactic_names: Iterable[str]) -> dict[str, Any]:
    """The ``attack`` object of the API: techniques and tactics with names and links, and the version."""
    return {"version": attack_data().version,
            "techniques": [technique_ref(t) for t in sorted(set(technique_ids))],
            "tactics": [tactic_ref(t) for t in sorted(set(tactic_names))]}
