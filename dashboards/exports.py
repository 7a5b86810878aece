"""Saved objects for Kibana and OpenSearch Dashboards (``saved_objects/*.ndjson``): data views over Canh Gác's
indices and a SOC overview dashboard, written for the index prefix ``canhgac`` and re-targeted on export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

SAVED_OBJECTS_DIR: Path = Path(__file__).resolve().parent / "saved_objects"
SHIPPED_PREFIX = "canhgac"
Target = Literal["kibana", "opensearch"]
TARGETS: tuple[Target, ...] = ("kibana", "opensearch")


def load(target: Target) -> list[dict[str, Any]]:
    text = (SAVED_OBJECTS_DIR / f"{target}.ndjson").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _renamed(name: str, prefix: str) -> str:
    return prefix + name.removeprefix(SHIPPED_PREFIX) if name.startswith(f"{SHIPPED_PREFIX}-") else name


def with_prefix(objects: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The same objects for indices named ``<prefix>-…``: ids, references and data view titles follow."""
    out = []
    for obj in objects:
        copy = json.loads(json.dumps(obj))
        copy["id"] = _renamed(copy["id"], prefix)
        for reference in copy.get("references", []):
            reference["id"] = _renamed(reference["id"], prefix)
        if copy["type"] == "index-pattern":
            copy["attributes"]["title"] = _renamed(copy["attributes"]["title"], prefix)
        out.append(copy)
    return out


def export(target: Target, prefix: str = SHIPPED_PREFIX) -> str:
    """The NDJSON an operator imports (Stack Management → Saved objects → Import)."""
    objects = load(target) if prefix == SHIPPED_PREFIX else with_prefix(load(target), prefix)
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
