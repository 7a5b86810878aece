"""A JSON mapping cannot make a line's content choose its agency, system, id or place.

The decoder lays parser fields over the source's own (``organization.id``, ``service.id`` …), so a mapping
that copied such a field from the document would let whoever writes the log pick the agency."""

from __future__ import annotations

from pathlib import Path

import pytest
from canhgac.collectors.parsers.jsonlines import JsonLinesParser, builtin_mappings
from canhgac.core.errors import ConfigError

BASE = "module: app\ndataset: app.audit\ntimestamp: {from: ts}\n"


@pytest.mark.parametrize("body", [
    "fields:\n  organization.id: agency\n",
    "fields:\n  service.id: {from: system}\n",
    "static:\n  log.file.path: /etc/passwd\n",
    "fields:\n  canhgac.evidence.sqli: x\n",
    "fields:\n  event.action: a\nactions:\n  from: a\n  values:\n    X: {organization.id: vpcp}\n",
])
def test_a_mapping_may_not_set_what_the_source_decides(tmp_path: Path, body: str) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    with pytest.raises(ConfigError, match="the source decides"):
        JsonLinesParser.from_file(path)


def test_the_shipped_mappings_are_accepted() -> None:
    for path in builtin_mappings().values():
        JsonLinesParser.from_file(path)
