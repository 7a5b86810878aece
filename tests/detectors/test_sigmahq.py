"""Real-world rules: every SigmaHQ web rule either loads or is refused with a located reason.

The SigmaHQ checkout is never copied into this repository: point CANHGAC_SIGMAHQ_DIR at it (the folder
that contains ``rules/web``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from detectors.sigma import SigmaDetector, builtin_rules_dir, load_rules


@pytest.fixture
def sigmahq_web() -> Path:
    root = os.environ.get("CANHGAC_SIGMAHQ_DIR")
    if not root:
        pytest.skip("CANHGAC_SIGMAHQ_DIR is not set")
    web = Path(root) / "rules" / "web"
    assert web.is_dir(), f"CANHGAC_SIGMAHQ_DIR={root} has no rules/web folder"
    return web


def test_every_sigmahq_web_rule_loads_or_is_reported(sigmahq_web: Path) -> None:
    files = sorted(path for path in sigmahq_web.rglob("*") if path.suffix in (".yml", ".yaml"))
    assert files
    loaded = load_rules([sigmahq_web])
    loaded_files = {rule.path for rule in loaded.rules}
    reported = {}
    for error in loaded.errors:
        assert error.file is not None and error.message.strip(), str(error)
        reported.setdefault(Path(error.file), []).append(error)
    for path in files:
        assert path in loaded_files or path in reported, f"{path} neither loaded nor reported"
    assert loaded.rules, "not a single SigmaHQ web rule loaded"

    # Each file on its own: it loads or it is reported, and nothing raises.
    for path in files:
        alone = load_rules([path])
        assert alone.rules or alone.errors, path
        assert {rule.id for rule in alone.rules} >= {rule.id for rule in loaded.rules if rule.path == path}


def test_sigmahq_rules_evaluate_over_the_fixture_events(sigmahq_web: Path) -> None:
    """Compiled SigmaHQ rules run over realistic events without raising."""
    detector = SigmaDetector(load_rules([sigmahq_web]).rules)
    events = []
    for fixture in builtin_rules_dir().rglob("*.tests.yml"):
        data = yaml.safe_load(fixture.read_text(encoding="utf-8"))
        events.extend(data["match"] + data["no_match"])
    alerts = detector.detect(events)
    assert all(alert.detector == "sigma" for alert in alerts)
