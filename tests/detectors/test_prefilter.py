"""The prefilter only ever skips rules that cannot match: prefiltered verdicts equal evaluating every rule."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from canhgac.detectors.sigma import SigmaDetector, builtin_rules_dir, load_rules
from canhgac.detectors.sigma.fixtures import read_fixtures
from canhgac.detectors.sigma.literals import fold, regex_literals
from canhgac.detectors.sigma.prefilter import Prefilter, requirement

from tests.detectors.support import compile_rule, web_event

SIGMAHQ = Path(os.environ.get("CANHGAC_SIGMAHQ_DIR", Path(__file__).resolve().parents[3] / "shared" / "sigmahq"))


@pytest.mark.parametrize(("pattern", "flags", "expected"), [
    (r"\bunion\s+select\b", re.I, {"select"}),
    (r"(pg_sleep|benchmark)\s*\(", re.I, {"pg_sleep", "benchmark"}),
    (r"(pg_sleep|benchmark)\(", re.I, {"pg_sleep(", "benchmark("}),
    (r"/(db|www)\.(zip|sql)$", re.I, {"/db.zip", "/db.sql", "/www.zip", "/www.sql"}),
    (r"^/api/v[0-9]+/", 0, {"/api/v"}),
    (r"[sS]elect", 0, {"select"}),
    (r"x*y?", 0, None),
    (r"(a|b.*)", 0, {"a", "b"}),
])
def test_regex_literals_are_necessary_strings(pattern: str, flags: int, expected: set[str] | None) -> None:
    found = regex_literals(re.compile(pattern, flags))
    assert (set(found) if found is not None else None) == expected


def test_fold_follows_the_case_equivalences_of_re() -> None:
    assert fold("ſELECT") == fold("select") and fold("İ").startswith("i")
    assert re.search("select", "ſelect", re.I) and fold("select") in fold("xſelectx")


def test_requirements_pick_the_selective_test(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        selection:
          cs-method: GET
          cs-uri-query|contains: 'information_schema'
        condition: selection
    """)
    assert {anchor.text for anchor in requirement(rule.condition) or ()} == {"information_schema"}
    negated = compile_rule(tmp_path, "selection:\n  cs-method: GET\ncondition: not selection")
    assert requirement(negated.condition) is None
    assert Prefilter([negated.condition]).always == (0,)


def _events() -> list[dict]:  # type: ignore[type-arg]
    pack = load_rules([builtin_rules_dir()])
    events = [event for rule in pack.rules for cases in read_fixtures(rule.path).values() for event in cases]
    tricky = [web_event({"url.query": "q=ſelect * from x union  select 1", "url.original": "/?q=%C5%BFelect"}),
              web_event({"user_agent.original": "${JNDI:ldap://x}", "url.path": "/ETC/PASSWD"}),
              web_event({"url.query": None, "url.path": ["/a", "/.git/config"]})]
    return events + tricky


@pytest.mark.parametrize("source", ["pack", "sigmahq"])
def test_prefiltered_detection_equals_evaluating_every_rule(source: str) -> None:
    if source == "sigmahq" and not SIGMAHQ.is_dir():
        pytest.skip(f"no SigmaHQ rules at {SIGMAHQ}")
    loaded = load_rules([builtin_rules_dir()] if source == "pack" else [SIGMAHQ])
    detector = SigmaDetector(loaded.rules)
    for event in _events():
        brute = [rule for rule in loaded.rules if rule.matches(event)]
        assert detector.matching_rules(event) == brute, event.get("event.original")
