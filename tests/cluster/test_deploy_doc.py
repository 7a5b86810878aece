"""The deployment guide's configuration and the role units are what the program accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from canhgac.core.config import EXAMPLE_CONFIG, parse_settings

from canhgac.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_the_guides_cluster_configuration_is_valid_with_the_example_directory() -> None:
    blocks = _yaml_blocks()
    assert blocks, "docs/deploy.md has no yaml block"
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data.update(yaml.safe_load(blocks[0]))
    settings = parse_settings(yaml.safe_dump(data, allow_unicode=True), "deploy.md")
    bus = settings.cluster.bus
    assert bus is not None and bus.replicas == 3 and bus.partitions >= 16
    assert bus.retention_hours == 48
    assert settings.store.kind == "elasticsearch" and (settings.store.retention_days or 0) >= 30


def test_a_wrong_value_in_that_block_is_refused() -> None:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data.update(yaml.safe_load(_yaml_blocks()[0]))
    data["cluster"]["bus"]["retention_hours"] = 0
    with pytest.raises(Exception, match="retention_hours"):
        parse_settings(yaml.safe_dump(data, allow_unicode=True), "deploy.md")


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_units_command_line_parses(unit: Path) -> None:
    line = next(x for x in unit.read_text(encoding="utf-8").splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/canhgac")
    # systemd fills %l (short host name) and %i (the instance) in before the program sees them
    args = build_parser().parse_args([a.replace("%l", "soc-w1").replace("%i", "2") for a in argv[1:]])
    assert str(args.config) == "/etc/canhgac/canhgac.yaml"
    if args.command == "worker":
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", args.id)
