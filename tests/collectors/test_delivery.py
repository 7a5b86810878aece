"""Delivery: order, checkpoints after commit, the bounded on-disk spool, and a 30 s store outage during
ingestion (on a clock running 100 times fast) that loses nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from canhgac.collectors.delivery import Batch, Delivery
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.spool import Spool, SpoolLocked
from canhgac.collectors.tail import FileSource, FileTailer
from canhgac.core.config import Settings
from canhgac.core.model import DeadLetter, utcnow
from canhgac.storage.base import EventQuery, Store

from tests.collectors.support import FastClock, FlakyStore, access_line


def batch(n: int, source: str = "test") -> Batch:
    event = {"@timestamp": "2026-11-22T08:00:00.000Z", "event.id": f"id-{n}", "organization.id": "binhdinh",
             "event.original": str(n)}
    letter = DeadLetter(id=f"dl-{n}", received=utcnow(), source_format="nginx", path="/x", offset=n, reason="bad",
                        raw="x")
    return Batch(source, [event], [letter], {f"cp:{source}": {"n": n}}, 2)


def test_spool_keeps_order_survives_reopening_and_cuts_a_torn_record(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20, segment_bytes=300, fsync=False)
    for n in range(5):
        spool.append(spool.encode(batch(n).encode()))
    assert Batch.decode(spool.peek()).events[0]["event.id"] == "id-0"
    spool.pop()
    spool.close()
    segments = sorted((tmp_path / "spool").glob("*.seg"))
    assert len(segments) > 1  # rolled over
    with segments[-1].open("ab") as torn:  # a crash in the middle of an append
        torn.write(b"\x50\x00\x00\x00garbage")
    reopened = Spool(tmp_path / "spool", max_bytes=1 << 20, segment_bytes=300, fsync=False)
    seen = []
    while (record := reopened.peek()) is not None:
        seen.append(Batch.decode(record).events[0]["event.id"])
        reopened.pop()
    assert seen == ["id-1", "id-2", "id-3", "id-4"] and reopened.empty
    with pytest.raises(SpoolLocked):
        Spool(tmp_path / "spool")
    reopened.close()


def test_spool_is_bounded_and_a_full_spool_refuses_without_waiting(sqlite_store: Store, tmp_path: Path) -> None:
    flaky = FlakyStore(sqlite_store)
    flaky.stop_for(3600)
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20, fsync=False)
    spool.max_bytes = 2000
    delivery = Delivery(lambda e, d: (flaky.put_events(e), flaky.put_dead_letters(d)), flaky, spool)  # type: ignore[arg-type]
    accepted = [delivery.submit(batch(n), wait=False) for n in range(20)]
    assert accepted[0] and not accepted[-1] and 2 <= spool.count < 20
    assert spool.pending_bytes <= 2000
    flaky.stop_for(0)
    delivery._retry_at = 0
    assert delivery.drain() and sqlite_store.count_events(EventQuery()) == sum(accepted)
    assert sqlite_store.get_state("cp:test") == {"n": sum(accepted) - 1}  # the checkpoint of the last committed
    spool.close()


def test_without_a_spool_the_source_waits_and_loses_nothing(sqlite_store: Store) -> None:
    clock = FastClock()
    flaky = FlakyStore(sqlite_store, clock)
    delivery = Delivery(lambda e, d: flaky.put_events(e), flaky, clock=clock)  # type: ignore[arg-type]
    flaky.stop_for(30)
    for n in range(5):
        assert delivery.submit(batch(n))
    assert not flaky.down and flaky.refused > 0
    assert sqlite_store.count_events(EventQuery()) == 5 and sqlite_store.get_state("cp:test") == {"n": 4}


def test_store_stopped_30s_during_ingest_loses_nothing(settings: Settings, sqlite_store: Store, home: Path,
                                                       tmp_path: Path) -> None:
    from canhgac.runtime import Runtime, ingest_files

    clock = FastClock()
    flaky = FlakyStore(sqlite_store, clock)
    runtime = Runtime.build(settings, store=flaky)  # type: ignore[arg-type]
    runtime.collection().delivery.clock = clock
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(20_000)))
    calls = [0]

    def progress(_: int) -> None:
        calls[0] += 1
        if calls[0] == 2:
            flaky.stop_for(30)

    report = ingest_files(runtime, [path], "nginx", agency="binhdinh", system=None, batch_lines=2000,
                          progress=progress)
    assert flaky.refused > 0 and report.decode.events == 20_000
    assert sqlite_store.count_events(EventQuery()) == 20_000


def test_store_stopped_30s_while_tailing_spools_in_order_and_replays(sqlite_store: Store, tmp_path: Path) -> None:
    clock = FastClock()
    flaky = FlakyStore(sqlite_store, clock)
    stored: list[str] = []

    def process(events, letters):  # type: ignore[no-untyped-def]
        flaky.put_events(events)
        stored.extend(e["url.path"] for e in events)

    spool = Spool(tmp_path / "spool", max_bytes=1 << 20, fsync=False)
    spool.max_bytes = 400_000  # small: the tail must also wait for room while the store is down
    delivery = Delivery(process, flaky, spool, clock=clock)  # type: ignore[arg-type]
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(3000)))
    source = FileSource(LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh")), batch_lines=500)
    tailer = FileTailer([source], flaky, delivery)  # type: ignore[arg-type]
    assert tailer.poll_all()
    flaky.stop_for(30)
    with path.open("a") as out:
        out.write("".join(access_line(n) for n in range(3000, 12_000)))
    stop = threading.Event()
    replay = threading.Thread(target=delivery.run, args=(stop,))
    replay.start()
    while tailer.poll_all():
        pass
    assert delivery.flush()
    stop.set()
    replay.join()
    assert flaky.refused > 0 and delivery.spooled_batches > 0
    assert stored == [f"/ho-so/{n}" for n in range(12_000)]  # in order, nothing twice
    assert sqlite_store.count_events(EventQuery()) == 12_000
    assert sqlite_store.get_state(source.checkpoint_key)["offset"] == path.stat().st_size
    spool.close()
