"""The condition grammar, as pySigma parses it and our compiled tree evaluates it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detectors.support import compile_rule, web_event

#: Three independent selections on different fields; an event sets each one true or false.
SELECTIONS = """
sel_a:
  cs-method: POST
sel_b:
  cs-uri-stem|startswith: '/quan-tri'
filter_c:
  c-ip|cidr: '10.0.0.0/8'
"""


def event(a: bool, b: bool, c: bool) -> dict:
    return web_event({
        "http.request.method": "POST" if a else "GET",
        "url.path": "/quan-tri/nguoi-dung" if b else "/tin-tuc",
        "source.ip": "10.1.2.3" if c else "203.0.113.9",
    })


CASES = [
    ("sel_a and sel_b", lambda a, b, c: a and b),
    ("sel_a or sel_b", lambda a, b, c: a or b),
    ("not sel_a", lambda a, b, c: not a),
    ("sel_a and not filter_c", lambda a, b, c: a and not c),
    ("sel_a or sel_b and filter_c", lambda a, b, c: a or (b and c)),
    ("(sel_a or sel_b) and filter_c", lambda a, b, c: (a or b) and c),
    ("not (sel_a or sel_b)", lambda a, b, c: not (a or b)),
    ("not sel_a and not sel_b", lambda a, b, c: not a and not b),
    ("1 of sel_*", lambda a, b, c: a or b),
    ("any of sel_*", lambda a, b, c: a or b),
    ("all of sel_*", lambda a, b, c: a and b),
    ("1 of sel_* and not 1 of filter_*", lambda a, b, c: (a or b) and not c),
    ("all of them", lambda a, b, c: a and b and c),
    ("1 of them", lambda a, b, c: a or b or c),
]


@pytest.mark.parametrize(("condition", "truth"), CASES, ids=[case[0] for case in CASES])
def test_condition_truth_table(tmp_path: Path, condition: str, truth) -> None:  # type: ignore[no-untyped-def]
    rule = compile_rule(tmp_path, SELECTIONS + f"\ncondition: {condition}\n")
    for a in (False, True):
        for b in (False, True):
            for c in (False, True):
                assert rule.matches(event(a, b, c)) == truth(a, b, c), (condition, a, b, c)


def test_keys_of_one_selection_are_and(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        selection:
          cs-method: POST
          cs-uri-stem: /dang-nhap
        condition: selection
    """)
    assert rule.matches(web_event({"http.request.method": "POST", "url.path": "/dang-nhap"}))
    assert not rule.matches(web_event({"http.request.method": "POST", "url.path": "/"}))
    assert not rule.matches(web_event({"http.request.method": "GET", "url.path": "/dang-nhap"}))


def test_list_of_maps_is_or_of_ands(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        selection:
          - cs-method: POST
            cs-uri-stem: /dang-nhap
          - cs-method: DELETE
        condition: selection
    """)
    assert rule.matches(web_event({"http.request.method": "POST", "url.path": "/dang-nhap"}))
    assert rule.matches(web_event({"http.request.method": "DELETE", "url.path": "/"}))
    assert not rule.matches(web_event({"http.request.method": "POST", "url.path": "/"}))


def test_list_of_conditions_is_or(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, SELECTIONS + "\ncondition:\n  - sel_a and sel_b\n  - filter_c\n")
    assert rule.matches(event(True, True, False))
    assert rule.matches(event(False, False, True))
    assert not rule.matches(event(True, False, False))


def test_identifiers_starting_with_operator_names(tmp_path: Path) -> None:
    rule = compile_rule(tmp_path, """
        notepad:
          c-useragent|contains: notepad
        android:
          c-useragent|contains: android
        condition: notepad or android
    """)
    assert rule.matches(web_event({"user_agent.original": "Notepad++"}))
    assert rule.matches(web_event({"user_agent.original": "Android 13"}))
    assert not rule.matches(web_event({"user_agent.original": "curl"}))
