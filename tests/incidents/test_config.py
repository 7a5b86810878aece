"""The ``incidents:`` block: defaults, and errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from canhgac.core.config import EXAMPLE_CONFIG, parse_settings
from canhgac.core.errors import ConfigErrors

ROOT = Path(__file__).resolve().parents[2]
BASE = EXAMPLE_CONFIG.read_text(encoding="utf-8").split("\nincidents:")[0]


def test_the_example_block_parses_with_the_legal_numbers() -> None:
    settings = parse_settings(EXAMPLE_CONFIG.read_text(encoding="utf-8"), "example.yaml")
    deadlines = settings.incidents.deadlines
    assert (deadlines.incident_notice_hours, deadlines.breach_notice_hours) == (5 * 24, 72)
    assert settings.incidents.grouping.fingerprint == ["rule", "agency", "source.ip"]
    assert settings.incidents.reporting.operators["cdvc"].startswith("Cục Kiểm soát")


@pytest.mark.parametrize(("block", "field", "line"), [
    ("incidents:\n  users:\n    - {name: an, role: agency_viewer, agency: atlantis}\n", "incidents.users[0].agency", 3),
    ("incidents:\n  users:\n    - {name: an, role: agency_viewer}\n", "incidents.users[0]", 3),
    ("incidents:\n  deadlines:\n    breach_notice_hours: -1\n", "incidents.deadlines.breach_notice_hours", 3),
    ("incidents:\n  grouping:\n    fingerprint: ['a b']\n", "incidents.grouping.fingerprint", 3),
    ("incidents:\n  grouping:\n    rules:\n      ssh_failure_burst: together\n",
     "incidents.grouping.rules.ssh_failure_burst", 4),
    ("incidents:\n  grouping:\n    by_principal: maybe\n", "incidents.grouping.by_principal", 3),
    ("incidents:\n  sla:\n    high: {acknowledge_minutes: 5, resolve_hours: 1}\n", "incidents", 1),
    ("incidents:\n  reporting:\n    operators: {nosuch: X}\n", "incidents.reporting.operators.nosuch", 3),
    ("incidents:\n  clocks: {}\n", "incidents.clocks", 2),
])
def test_errors_name_file_line_and_field(block: str, field: str, line: int) -> None:
    text = BASE + "\n" + block
    offset = BASE.count("\n") + 1
    with pytest.raises(ConfigErrors) as raised:
        parse_settings(text, "canhgac.yaml")
    [error] = raised.value.errors
    assert error.file == "canhgac.yaml" and error.field == field
    assert error.line == offset + line, str(error)
