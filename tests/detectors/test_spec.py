"""Cases taken from the wording of the Sigma specification v2.1 (rules, modifiers appendix, filters):
each test names the sentence it checks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from canhgac.detectors.sigma import load_rules

from tests.detectors.support import ABSENT, compile_rule, rule_text, web_event


def verdicts(tmp_path: Path, detection: str, events: list[dict], **options: object) -> list[bool]:  # type: ignore[type-arg]
    rule = compile_rule(tmp_path, detection, **options)  # type: ignore[arg-type]
    return [rule.matches(web_event(fields)) for fields in events]


def test_wildcards_star_and_question_mark(tmp_path: Path) -> None:
    """'*' matches any number of characters, '?' exactly one."""
    assert verdicts(tmp_path, "s:\n  cs-uri-stem: '/ho-so/*/xem?'\ncondition: s", [
        {"url.path": "/ho-so/123/xem1"}, {"url.path": "/ho-so//xemX"}, {"url.path": "/ho-so/1/xem"},
        {"url.path": "/ho-so/1/xem12"}]) == [True, True, False, False]


def test_escaped_wildcards_are_literal(tmp_path: Path) -> None:
    r"""A backslash escapes '*', '?' and itself: '\*' is a literal star."""
    assert verdicts(tmp_path, r"s:" + "\n" + r"  cs-uri-query: 'q=\*\?'" + "\ncondition: s", [
        {"url.query": "q=*?"}, {"url.query": "q=ab"}]) == [True, False]
    assert verdicts(tmp_path, "s:\n  cs-uri-stem|endswith: 'c:\\\\admin'\ncondition: s", [
        {"url.path": "c:\\admin"}, {"url.path": "c:/admin"}]) == [True, False]


def test_strings_are_case_insensitive_unless_cased(tmp_path: Path) -> None:
    """Plain string matching is case-insensitive; the cased modifier makes it case-sensitive."""
    assert verdicts(tmp_path, "s:\n  c-useragent|contains: Nikto\ncondition: s",
                    [{"user_agent.original": "NIKTO/2"}]) == [True]
    assert verdicts(tmp_path, "s:\n  c-useragent|cased|contains: Nikto\ncondition: s",
                    [{"user_agent.original": "NIKTO/2"}, {"user_agent.original": "Nikto/2"}]) == [False, True]


def test_all_changes_a_list_from_or_to_and(tmp_path: Path) -> None:
    """'all' links the values of a list with AND instead of OR."""
    assert verdicts(tmp_path, "s:\n  cs-uri-query|contains|all: [union, select]\ncondition: s", [
        {"url.query": "union select"}, {"url.query": "union"}, {"url.query": "select"}]) == [True, False, False]


@pytest.mark.parametrize(("modifier", "encode"), [
    ("wide", lambda text: text.encode("utf-16-le")),
    ("utf16le", lambda text: text.encode("utf-16-le")),
    ("utf16be", lambda text: text.encode("utf-16-be")),
    ("utf16", lambda text: text.encode("utf-16")),
])
def test_utf16_variants_before_base64(tmp_path: Path, modifier: str, encode) -> None:  # type: ignore[no-untyped-def]
    """utf16le/wide, utf16be and utf16 (with byte order mark) transform the value before base64."""
    payload = base64.b64encode(encode("whoami")).decode()
    assert verdicts(tmp_path, f"s:\n  cs-uri-query|{modifier}|base64|contains: whoami\ncondition: s", [
        {"url.query": f"c={payload}"}, {"url.query": f"c={base64.b64encode(b'whoami').decode()}"}]) == [True, False]


def test_base64_output_is_matched_case_sensitively(tmp_path: Path) -> None:
    """Encoded text is case-significant: 'd2hvYW1p' is whoami, 'D2HVYW1P' is not."""
    assert verdicts(tmp_path, "s:\n  cs-uri-query|base64|contains: whoami\ncondition: s", [
        {"url.query": "x=d2hvYW1p"}, {"url.query": "x=D2HVYW1P"}]) == [True, False]


def test_windash_covers_dash_slash_and_dashes(tmp_path: Path) -> None:
    """windash: '-' may also be written '/', en dash, em dash or horizontal bar."""
    assert verdicts(tmp_path, "s:\n  cs-uri-query|windash|contains: ' -nop '\ncondition: s", [
        {"url.query": f"c=powershell {dash}nop x"} for dash in ("-", "/", "\u2013", "\u2014", "\u2015", "+")
    ]) == [True, True, True, True, True, False]


def test_expand_uses_configured_placeholder_values(tmp_path: Path) -> None:
    """expand: %name% is replaced by the values the deployment defines for it."""
    path = tmp_path / "r.yml"
    path.write_text(rule_text("s:\n  c-ip|expand: '%soc_scanners%'\ncondition: s"), encoding="utf-8")
    from canhgac.detectors.sigma.parse import ParseOptions

    loaded = load_rules([path], ParseOptions(placeholders={"soc_scanners": ["10.0.0.5", "10.0.0.6"]}))
    [rule] = loaded.rules
    assert [rule.matches(web_event({"source.ip": ip})) for ip in ("10.0.0.5", "10.0.0.6", "10.0.0.7")] == [
        True, True, False]
    [error] = load_rules([path]).errors
    assert "placeholder %soc_scanners% has no values" in error.message and error.line == 8


@pytest.mark.parametrize(("modifier", "value", "stamp", "expected"), [
    ("hour", 9, "2025-03-15T02:10:00.000Z", True),  # 09:10 in Vietnam
    ("hour", 2, "2025-03-15T02:10:00.000Z", False),
    ("minute", 10, "2025-03-15T02:10:00.000Z", True),
    ("day", 15, "2025-03-15T02:10:00.000Z", True),
    ("day", 16, "2025-03-15T18:00:00.000Z", True),  # already the 16th in Vietnam
    ("week", 11, "2025-03-15T02:10:00.000Z", True),
    ("month", 3, "2025-03-15T02:10:00.000Z", True),
    ("year", 2024, "2025-03-15T02:10:00.000Z", False),
])
def test_time_part_modifiers(tmp_path: Path, modifier: str, value: int, stamp: str, expected: bool) -> None:
    """minute/hour/day/week/month/year compare one part of a timestamp (read in Vietnam time here)."""
    assert verdicts(tmp_path, f"s:\n  '@timestamp|{modifier}': {value}\ncondition: s",
                    [{"@timestamp": stamp}]) == [expected]


def test_neq_and_comparison_modifiers(tmp_path: Path) -> None:
    """neq: the value differs; lt/lte/gt/gte compare numbers."""
    assert verdicts(tmp_path, "s:\n  sc-status|neq: 200\ncondition: s", [
        {"http.response.status_code": 404}, {"http.response.status_code": 200}]) == [True, False]


def test_null_and_empty_are_different(tmp_path: Path) -> None:
    """null matches an absent field; '' matches an empty value only."""
    assert verdicts(tmp_path, "s:\n  cs-referer: ''\ncondition: s", [
        {"http.request.referrer": ""}, {"http.request.referrer": ABSENT}]) == [True, False]


@pytest.mark.parametrize(("condition", "expected"), [
    ("a or b and c", True),  # and binds tighter than or: a or (b and c)
    ("(a or b) and c", False),
    ("not a and b", False),  # not binds tighter than and: (not a) and b
    ("not (a and c)", True),
    ("1 of x* and not c", True),
    ("all of them", False),
    ("1 of them", True),
])
def test_condition_precedence(tmp_path: Path, condition: str, expected: bool) -> None:
    """Precedence: parentheses, then 'x of', then not, and, or."""
    detection = ("a:\n  cs-method: GET\nb:\n  cs-method: POST\nc:\n  sc-status: 500\n"
                 "x1:\n  cs-method: GET\nx2:\n  cs-method: PUT\n" + f"condition: {condition}")
    assert verdicts(tmp_path, detection, [{"http.request.method": "GET", "http.response.status_code": 200}]) == [
        expected]


def test_underscore_selections_are_left_out_of_them(tmp_path: Path) -> None:
    """Identifiers starting with an underscore are not part of 'them'."""
    detection = "a:\n  cs-method: GET\n_helper:\n  sc-status: 500\ncondition: all of them"
    assert verdicts(tmp_path, detection, [{"http.request.method": "GET", "http.response.status_code": 200}]) == [
        True]


FILTER = """title: Ignore the SOC's own scanner
id: 9a9a9a9a-1111-4222-8333-444455556666
status: test
logsource:
  category: webserver
filter:
  rules:
    - {target}
  selection:
    c-ip|cidr: 10.10.0.0/24
  condition: not selection
"""


def test_meta_filter_excludes_events_from_named_rules(tmp_path: Path) -> None:
    """A filter document adds its condition (as AND) to the rules it names, by id or name."""
    (tmp_path / "rule.yml").write_text(rule_text("s:\n  c-useragent|contains: nikto\ncondition: s",
                                                 rule_id="7b7b7b7b-1111-4222-8333-444455556666"), encoding="utf-8")
    (tmp_path / "other.yml").write_text(rule_text("s:\n  c-useragent|contains: nikto\ncondition: s"),
                                        encoding="utf-8")
    (tmp_path / "filter.yml").write_text(FILTER.format(target="7b7b7b7b-1111-4222-8333-444455556666"),
                                         encoding="utf-8")
    loaded = load_rules([tmp_path])
    assert loaded.errors == [] and len(loaded.filters) == 1
    target = next(rule for rule in loaded.rules if rule.id.startswith("7b7b"))
    other = next(rule for rule in loaded.rules if not rule.id.startswith("7b7b"))
    ours = web_event({"user_agent.original": "Nikto", "source.ip": "10.10.0.9"})
    theirs = web_event({"user_agent.original": "Nikto", "source.ip": "203.0.113.9"})
    assert (target.matches(ours), target.matches(theirs)) == (False, True)
    assert (other.matches(ours), other.matches(theirs)) == (True, True)
    assert target.filters == ["9a9a9a9a-1111-4222-8333-444455556666"]


def test_filter_for_any_rule_of_a_logsource_and_unknown_targets(tmp_path: Path) -> None:
    (tmp_path / "rule.yml").write_text(rule_text("s:\n  c-useragent|contains: nikto\ncondition: s"), encoding="utf-8")
    (tmp_path / "filter.yml").write_text(FILTER.replace("rules:\n    - {target}", "rules: any"), encoding="utf-8")
    loaded = load_rules([tmp_path])
    assert not loaded.rules[0].matches(web_event({"user_agent.original": "Nikto", "source.ip": "10.10.0.9"}))
    (tmp_path / "filter.yml").write_text(FILTER.format(target="no-such-rule"), encoding="utf-8")
    [error] = load_rules([tmp_path]).errors
    assert "no-such-rule" in error.message and error.line == 7
