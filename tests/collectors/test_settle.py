"""Positions follow the detection state (docs/decisions/0037): correlation windows are saved every few seconds,
and a source's position is saved only with them, so a restart never skips lines the windows did not see."""

from __future__ import annotations

from pathlib import Path

from canhgac.collectors.delivery import Batch, Delivery
from canhgac.core.config import Settings
from canhgac.storage.base import Store
from canhgac.storage.sqlite.store import SqliteStore

from canhgac.runtime import Runtime
from tests.collectors.test_delivery import batch


def test_positions_wait_for_the_state_they_depend_on(sqlite_store: Store) -> None:
    saved: list[bool] = []
    ready = [False]

    def settle(force: bool) -> bool:
        saved.append(force)
        return force or ready[0]

    delivery = Delivery(lambda e, d: None, sqlite_store, settle=settle)
    delivery.submit(batch(1))
    assert sqlite_store.get_state("cp:test") is None  # processed, but the state it needs is not saved yet
    ready[0] = True
    delivery.submit(batch(2))
    assert sqlite_store.get_state("cp:test") == {"n": 2}
    ready[0] = False
    delivery.submit(batch(3))
    delivery.submit(Batch("other", [], [], {"cp:other": {"n": 9}}))
    assert sqlite_store.get_state("cp:test") == {"n": 2}
    delivery.settle()  # on the status cadence and before stopping: the state, then every held position
    assert saved[-1] is True and sqlite_store.get_state("cp:test") == {"n": 3}
    assert sqlite_store.get_state("cp:other") == {"n": 9}


def test_a_crash_between_saves_replays_from_the_saved_pair(settings: Settings, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "canhgac.db")
    runtime = Runtime.build(settings, store=store)
    runtime.detector.checkpoint_seconds = 3600  # after the first batch, nothing is due for an hour
    delivery = runtime.collection().delivery
    delivery.submit(batch(1))
    delivery.submit(batch(2))
    assert store.get_state("cp:test") == {"n": 1}  # the crash point: batch 2 would be read again
    runtime.close()  # a clean stop saves the windows and the positions together
    reopened = SqliteStore(tmp_path / "canhgac.db")
    assert reopened.get_state("cp:test") == {"n": 2}
    reopened.close()
