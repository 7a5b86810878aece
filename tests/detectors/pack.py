"""The shipped rule pack and its fixture files, loaded once per test process: several modules check every rule
against every fixture, and loading the pack or parsing a fixture file (YAML) is what costs, not the checks."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from canhgac.detectors.sigma import SigmaDetector, builtin_rules_dir, load_rules
from canhgac.detectors.sigma.fixtures import read_fixtures

RULES_DIR = builtin_rules_dir()
LOADED = load_rules([RULES_DIR])


@cache
def pack_fixtures(rule_path: Path) -> dict[str, list[Any]]:
    """``read_fixtures`` of one rule, read once; callers must not change what it returns."""
    return read_fixtures(rule_path)


@cache
def pack_detector() -> SigmaDetector:
    """One detector over the whole pack, for ``matching_rules`` only (stateless; ``detect`` would keep
    correlation state between tests)."""
    return SigmaDetector(LOADED.rules)
