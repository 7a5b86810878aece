"""Bad rule files are reported with file, line and reason, and never stop the good ones."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from canhgac.core.errors import RuleError
from canhgac.detectors.sigma import load_rules

from tests.detectors.support import rule_text

GOOD = rule_text("""
    selection:
      cs-method: POST
    condition: selection
""", title="Good rule")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def only_error(errors: list[RuleError], path: Path) -> RuleError:
    found = [error for error in errors if error.file == str(path)]
    assert len(found) == 1, [str(error) for error in errors]
    return found[0]


def numbered(text: str) -> str:
    """The rule text with a fresh id, so several copies can live in one directory."""
    return re.sub(r"^id: .*$", f"id: {uuid.uuid4()}", text, count=1, flags=re.MULTILINE)


BROKEN_YAML = """title: Broken
id: 0b0b8c53-8a0e-4c5c-9f0e-3a8e8e3c2f01
logsource:
  category: webserver
detection:
  selection:
    cs-method: [GET, POST
  condition: selection
"""

UNKNOWN_MODIFIER = """title: Unknown modifier
id: 1c1c8c53-8a0e-4c5c-9f0e-3a8e8e3c2f02
status: test
logsource:
  category: webserver
detection:
  selection:
    cs-method: GET
    cs-uri-query|containz: union
  condition: selection
level: high
"""

UNSUPPORTED_MODIFIER = """title: Known to pySigma, not evaluated here
id: 2d2d8c53-8a0e-4c5c-9f0e-3a8e8e3c2f03
status: test
logsource:
  category: webserver
detection:
  selection:
    - cs-method: GET
    - cs-uri-query|expand: '%admin_pages%'
  condition: selection
level: high
"""

UNKNOWN_LOGSOURCE = """title: Windows process creation
id: 3e3e8c53-8a0e-4c5c-9f0e-3a8e8e3c2f04
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
level: high
"""

MISSING_DETECTION = """title: No detection
id: 4f4f8c53-8a0e-4c5c-9f0e-3a8e8e3c2f05
status: test
logsource:
  category: webserver
level: high
"""

CORRELATION = """title: Many SSH failures
id: 5a5a8c53-8a0e-4c5c-9f0e-3a8e8e3c2f06
status: test
correlation:
  type: event_count
  rules:
    - f975ef48-5fd4-4ffc-a3a5-3ce9fb510013
  group-by:
    - source.ip
  timespan: 5m
  condition:
    gte: 10
level: high
"""

UNDEFINED_SELECTION = """title: Undefined selection in condition
id: 6b6b8c53-8a0e-4c5c-9f0e-3a8e8e3c2f07
status: test
logsource:
  category: webserver
detection:
  selection:
    cs-method: GET
  condition: selection and filter
level: high
"""

BAD_REGEX = """title: Invalid regular expression
id: 7c7c8c53-8a0e-4c5c-9f0e-3a8e8e3c2f08
status: test
logsource:
  category: webserver
detection:
  selection:
    cs-method: GET
  other:
    cs-uri-query|re: 'id=(\\d+'
  condition: selection and other
level: high
"""

BAD_LEVEL = """title: Bad level
id: 8d8d8c53-8a0e-4c5c-9f0e-3a8e8e3c2f09
status: test
logsource:
  category: webserver
detection:
  selection:
    cs-method: GET
  condition: selection
level: severe
"""


@pytest.mark.parametrize(("name", "text", "line", "reason"), [
    ("broken_yaml.yml", BROKEN_YAML, 8, "not valid YAML"),
    ("unknown_modifier.yml", UNKNOWN_MODIFIER, 9, "unknown modifier 'containz'"),
    ("unsupported_modifier.yml", UNSUPPORTED_MODIFIER, 9, "placeholder %admin_pages% has no values"),
    ("unknown_logsource.yml", UNKNOWN_LOGSOURCE, 4,
     "unsupported logsource {category: process_creation, product: windows}"),
    ("missing_detection.yml", MISSING_DETECTION, 1, "rule has no detection"),
    ("correlation.yml", CORRELATION, 6, "correlation refers to rules that are not loaded"),
    ("undefined_selection.yml", UNDEFINED_SELECTION, 9, "'filter' not defined"),
    ("bad_regex.yml", BAD_REGEX, 10, "is invalid"),
    ("bad_level.yml", BAD_LEVEL, 10, "'severe' is not a valid Sigma rule level"),
])
def test_bad_rule_is_located_and_good_rules_still_load(tmp_path: Path, name: str, text: str, line: int,
                                                      reason: str) -> None:
    good = write(tmp_path, "a_good.yml", GOOD)
    bad = write(tmp_path, f"sub/{name}", text)
    also_good = write(tmp_path, "z_good.yml", numbered(GOOD))
    loaded = load_rules([tmp_path])
    assert sorted(rule.path for rule in loaded.rules) == [good, also_good]
    error = only_error(loaded.errors, bad)
    assert error.line == line, str(error)
    assert reason in error.message, str(error)
    assert str(bad) in str(error) and f":{line}:" in str(error)


def test_all_bad_files_of_one_directory_are_reported_together(tmp_path: Path) -> None:
    bad = [write(tmp_path, f"bad_{index}.yml", text) for index, text in enumerate(
        (BROKEN_YAML, UNKNOWN_MODIFIER, UNKNOWN_LOGSOURCE, MISSING_DETECTION, CORRELATION))]
    write(tmp_path, "good.yml", GOOD)
    loaded = load_rules([tmp_path])
    assert [rule.title for rule in loaded.rules] == ["Good rule"]
    assert sorted(error.file for error in loaded.errors) == sorted(str(path) for path in bad)
    assert all(error.line is not None and error.message for error in loaded.errors)


def test_unknown_and_unsupported_modifiers_name_the_key(tmp_path: Path) -> None:
    error = only_error(load_rules([write(tmp_path, "r.yml", UNKNOWN_MODIFIER)]).errors, tmp_path / "r.yml")
    assert error.field == "detection.selection.cs-uri-query|containz"
    error = only_error(load_rules([write(tmp_path, "s.yml", UNSUPPORTED_MODIFIER)]).errors, tmp_path / "s.yml")
    assert error.field == "detection.selection.1.cs-uri-query|expand"


def test_rule_without_id_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yml", GOOD.replace("id: ", "x-old-id: "))
    error = only_error(load_rules([path]).errors, path)
    assert "no id" in error.message


def test_invalid_id_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yml", "title: T\nid: not-a-uuid\n" + GOOD.split("\n", 2)[2])
    error = only_error(load_rules([path]).errors, path)
    assert "UUID" in error.message and error.line == 2


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", GOOD)
    second = write(tmp_path, "b.yml", GOOD.replace("Good rule", "Copy"))
    loaded = load_rules([tmp_path])
    assert [rule.path for rule in loaded.rules] == [first]
    error = only_error(loaded.errors, second)
    assert "duplicate rule id" in error.message and str(first) in error.message and error.line == 1


def test_missing_path_empty_file_and_non_mapping(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    empty = write(tmp_path, "empty.yml", "# nothing here\n")
    scalar = write(tmp_path, "scalar.yml", "just a string\n")
    loaded = load_rules([missing, empty, scalar])
    assert loaded.rules == []
    assert "no such rule file" in only_error(loaded.errors, missing).message
    assert "empty" in only_error(loaded.errors, empty).message
    assert "must be a YAML mapping" in only_error(loaded.errors, scalar).message


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(GOOD.replace("Good rule", "Quy Nh\xf8n").encode("latin-1"))
    assert "cannot read" in only_error(load_rules([path]).errors, path).message


def test_alias_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
              f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
              for i in range(8)]
    path = write(tmp_path, "bomb.yml", "\n".join(lines) + "\n")
    assert "too large" in only_error(load_rules([path]).errors, path).message


def test_fixtures_and_other_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", GOOD)
    write(tmp_path, "good.tests.yml", "match: []\nno_match: []\n")
    write(tmp_path, "README.md", "# rules\n")
    loaded = load_rules([tmp_path])
    assert len(loaded.rules) == 1 and loaded.errors == []
    assert load_rules([tmp_path / "good.tests.yml"]).rules == []


def test_multi_document_file_loads_each_rule_with_its_own_lines(tmp_path: Path) -> None:
    second = numbered(GOOD).replace("Good rule", "Second")
    path = write(tmp_path, "two.yml", GOOD + "---\n" + second + "---\n" + UNKNOWN_LOGSOURCE)
    loaded = load_rules([path])
    assert [rule.title for rule in loaded.rules] == ["Good rule", "Second"]
    first_lines = GOOD.count("\n")
    assert loaded.rules[1].line == first_lines + 2
    error = only_error(loaded.errors, path)
    assert error.line == first_lines + 1 + second.count("\n") + 1 + 4


MALFORMED_BASE = """title: Malformed
id: {rule_id}
status: test
logsource:
  category: webserver
detection:
{detection}
level: high
"""
VALID_ID = "9e9e8c53-8a0e-4c5c-9f0e-3a8e8e3c2f10"


@pytest.mark.parametrize(("rule_id", "detection", "line", "reason"), [
    ("", "  sel:\n    a: b\n  condition: sel", 2, "rule has no id"),
    ("12", "  sel:\n    a: b\n  condition: sel", 2, "rule id must be a UUID string"),
    (VALID_ID, "  sel:\n    a: b\n  condition: 5", 9, "condition must be a string"),
    (VALID_ID, "  sel:\n  condition: sel", 7, "selection 'sel' is empty"),
    (VALID_ID, "  sel:\n    1: b\n  condition: sel", 8, "detection key 1 is not a field name"),
    (VALID_ID, "  sel:\n    a:\n      b: c\n  condition: sel", 8, "Unsupported type"),
    (VALID_ID, "  sel:\n    a: b\n  condition: sel | count() > 5", 9, "pipe syntax"),
    (VALID_ID, "  sel:\n    c-ip|cidr: 10.0.0.300/8\n  condition: sel", 8, "Invalid CIDR"),
    (VALID_ID, "  sel:\n    c|contains: 5\n  condition: sel", 8, "incompatible to value type"),
    (VALID_ID, "  kw:\n    '|cidr': 10.0.0.0/8\n  condition: kw", 8, "cannot be a keyword"),
    (VALID_ID, "  sel:\n    a: b\n  s2:\n    c|windash: ' -a -b -c -d'\n  condition: sel and s2", 10,
     "at most three"),
    (VALID_ID, "  sel:\n    a|re: '\\pL+'\n  condition: sel", 8, "not valid for Python's re"),
    (VALID_ID, "  - a\n  - b", 6, "detection must be a mapping"),
])
def test_malformed_rules_are_reported_not_raised(tmp_path: Path, rule_id: str, detection: str, line: int,
                                                 reason: str) -> None:
    path = write(tmp_path, "r.yml", MALFORMED_BASE.format(rule_id=rule_id, detection=detection))
    loaded = load_rules([path])
    assert loaded.rules == []
    error = only_error(loaded.errors, path)
    assert reason in error.message and error.line == line, str(error)


def test_a_file_named_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yml", GOOD)
    loaded = load_rules([tmp_path, path])
    assert len(loaded.rules) == 1 and loaded.errors == []
