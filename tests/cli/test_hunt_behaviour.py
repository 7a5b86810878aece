"""``canhgac hunt --behaviour`` over a simulated month ingested with ``canhgac ingest``: the leaks are found,
the alerts are stored with ``--save``, and live detection over the same store raises the same alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from canhgac.core.config import load_settings
from canhgac.core.model import utcnow
from canhgac.detectors.behaviour import BehaviourDetector
from canhgac.storage.sqlite import SqliteStore

from canhgac.cli import main
from canhgac.leak_simulator import generate

DAYS = 20


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_hunt_finds_the_leaks_and_equals_live_detection(home: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    manifest = generate(tmp_path / "month", seed=3, days=DAYS, officials=30, clients=6)
    for item in manifest.data["files"]:
        code, _, err = run(capsys, "ingest", str(manifest.out_dir / item["path"]), "--source", item["format"],
                           "--agency", item["agency"])
        assert code == 0, err
    code, out, err = run(capsys, "hunt", "--behaviour", "--since", f"{DAYS + 2}d", "--format", "jsonl", "--save")
    assert code == 0, err
    hunted = [json.loads(line) for line in out.splitlines()]
    assert f"{len(hunted)} cảnh báo, {len(hunted)} mới lưu" in err
    burst = next(label for label in manifest.labels if label["kind"] == "burst_export")
    assert any(a["rule_id"] == "canhgac-behaviour-volume" and a["entities"]["user.name"] == burst["entity"]["id"]
               and "đã xuất" in a["details"]["explanation_vi"] for a in hunted)
    code, out, _ = run(capsys, "alerts", "--format", "jsonl", "--since", f"{DAYS + 2}d")
    stored = {json.loads(line)["id"] for line in out.splitlines()}
    assert {a["id"] for a in hunted} <= stored

    settings = load_settings(None).detection.behaviour.model_copy(update={"backfill_days": DAYS + 2})
    store = SqliteStore(home / "canhgac.db")
    try:  # live detection as the scheduler runs it now, its first run reading back as far as the hunt did
        live = BehaviourDetector(store, settings, clock=utcnow).run()
    finally:
        store.close()
    assert sorted(a.id for a in live) == sorted(a["id"] for a in hunted)
