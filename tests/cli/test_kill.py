"""kill -9 of ``canhgac ingest --resume`` at five random moments of a 100,000-line ingest, restarting each
time: the store ends up with every line exactly once (stable ids + checkpoints written after commits)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from canhgac.core.model import event_id
from canhgac.storage.base import EventQuery
from canhgac.storage.sqlite import SqliteStore

from tests.collectors.support import access_line
from tests.conftest import EXAMPLE_CONFIG

LINES = 100_000


def test_five_kills_during_a_100k_line_ingest_store_every_line_exactly_once(tmp_path: Path) -> None:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    # Detection is not what is tested here; without it the ingest is quick enough to kill five times.
    config["detection"] = {"builtin_rules": False, "anomaly": {"enabled": False}}
    config_path = tmp_path / "canhgac.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    log = tmp_path / "access.log"
    lines = [access_line(n) for n in range(LINES)]
    log.write_text("".join(lines), encoding="utf-8")
    env = {**os.environ, "CANHGAC_HOME": str(tmp_path / "home")}
    env.pop("SLACK_BOT_TOKEN", None)
    command = [sys.executable, "-m", "canhgac.cli", "ingest", str(log), "--source", "nginx", "--agency", "binhdinh",
               "--resume", "--batch-size", "2000", "--json", "--config", str(config_path)]
    database = tmp_path / "home" / "canhgac.db"
    chance = random.Random(3)
    counts = []
    for _ in range(5):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        before = _count(database)
        while _count(database) == before and process.poll() is None and time.monotonic() - started < 30:
            time.sleep(0.05)  # the process is up and storing: now kill it at a random moment
        time.sleep(chance.uniform(0.0, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        counts.append(_count(database))
    assert sum(count < LINES for count in counts) >= 3, counts  # killed mid-ingest, not after it
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    store = SqliteStore(database)
    try:
        assert store.count_events(EventQuery()) == LINES
        stored = {e["event.id"] for e in store.search_events(EventQuery(limit=LINES + 10))}
    finally:
        store.close()
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line.encode())
    assert stored == {event_id(str(log.resolve()), o, line.rstrip("\n").encode()) for o, line in zip(offsets, lines,
                                                                                                   strict=True)}


def _count(database: Path) -> int:
    if not database.exists():
        return 0
    import sqlite3

    try:
        with sqlite3.connect(database, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
