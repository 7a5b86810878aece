"""Fixtures of the shipper tests: the mixed log and its reference store (made once), and a server per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shippers.harness import MixedLogs, Server, Stored, ingest_reference, write_mixed_logs


@pytest.fixture(scope="session")
def mixed_logs(tmp_path_factory: pytest.TempPathFactory) -> MixedLogs:
    return write_mixed_logs(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="session")
def reference(mixed_logs: MixedLogs, tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """What ``canhgac ingest`` of the same two files stores: what every shipper must end up with."""
    stored = ingest_reference(tmp_path_factory.mktemp("reference"), mixed_logs)
    assert len(stored.events) == mixed_logs.lines and stored.dead_letters == 0
    return stored


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "serve")
    try:
        yield running
    finally:
        running.close()
