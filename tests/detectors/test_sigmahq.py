"""Real-world rules: every SigmaHQ rule for web servers, proxies and Linux loads or is refused with a reason.

The SigmaHQ rules are never copied into this repository: they are read from ``CANHGAC_SIGMAHQ_DIR`` or,
by default, ``../shared/sigmahq`` beside the checkout; the tests skip when neither exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from canhgac.detectors.sigma import SigmaDetector, builtin_rules_dir, load_rules

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "sigmahq"


@pytest.fixture(scope="module")
def sigmahq() -> Path:
    root = Path(os.environ.get("CANHGAC_SIGMAHQ_DIR") or DEFAULT)
    if not (root / "rules").is_dir():
        pytest.skip(f"no SigmaHQ rules at {root} (set CANHGAC_SIGMAHQ_DIR)")
    return root


def test_every_sigmahq_rule_loads_or_is_reported(sigmahq: Path) -> None:
    files = sorted(path for path in sigmahq.rglob("*") if path.suffix in (".yml", ".yaml"))
    loaded = load_rules([sigmahq])
    loaded_files = {rule.path for rule in loaded.rules} | {rule.path for rule in loaded.correlations}
    reported = {Path(error.file) for error in loaded.errors if error.file}
    for error in loaded.errors:
        assert error.file is not None and error.line is not None and error.message.strip(), str(error)
    for path in files:
        assert path in loaded_files or path in reported, f"{path} neither loaded nor reported"
    if len(files) == 393:  # the snapshot in ../shared: all of it loads
        assert (len(loaded.rules), len(loaded.errors)) == (393, 0), [str(error) for error in loaded.errors]


def test_sigmahq_rules_evaluate_over_the_fixture_events(sigmahq: Path) -> None:
    """Compiled SigmaHQ rules run over realistic events without raising, and stay quiet on benign traffic."""
    detector = SigmaDetector(load_rules([sigmahq]).rules)
    benign, attacks = [], []
    for fixture in builtin_rules_dir().rglob("*.tests.yml"):
        data = yaml.safe_load(fixture.read_text(encoding="utf-8"))
        if isinstance(data["match"][0], dict) and "events" not in data["match"][0]:
            attacks += data["match"]
            benign += data["no_match"]
    assert all(alert.detector == "sigma" for alert in detector.detect(attacks))
    assert len(detector.detect(attacks)) > 0
