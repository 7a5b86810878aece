"""The bus contract (decision 0039), on the in-memory bus and on a real 3-node JetStream cluster (R3)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest
from canhgac.collectors.bus import MAX_BATCH_BYTES, Bus, BusConsumer, BusError, LineBatch, MemoryBus, Received
from canhgac.collectors.raw import RawLine

from tests.cluster.support import NatsCluster, running_cluster

Cluster = NatsCluster

_names = itertools.count()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three nats-server processes with JetStream, routed to each other, on 127.0.0.1."""
    yield from running_cluster(tmp_path_factory)


def _jetstream_bus(cluster: Cluster, **overrides: object) -> Bus:
    from canhgac.collectors.bus.jetstream import JetStreamBus, JetStreamSettings

    n = next(_names)
    settings = JetStreamSettings(servers=cluster.servers, stream=f"T{n}", subject_prefix=f"t{n}.raw",
                                 partitions=4, replicas=3, ack_wait=30.0, publish_timeout=15.0)
    settings = JetStreamSettings(**{**settings.__dict__, **overrides})
    deadline = time.monotonic() + 20
    while True:  # the cluster needs a moment to elect its meta leader after start
        try:
            return JetStreamBus(settings)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(params=["memory", "jetstream"])
def make_bus(request: pytest.FixtureRequest) -> Iterator[Callable[[], Bus]]:
    made: list[Bus] = []

    def make() -> Bus:
        if request.param == "memory":
            bus: Bus = MemoryBus(partitions=4)
        else:
            bus = _jetstream_bus(request.getfixturevalue("cluster"))
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()


def _batch(agency: str, index: int, source: str = "/var/log/nginx/access.log") -> LineBatch:
    lines = tuple(RawLine(index * 1000 + n * 100, f"{agency} dòng {index}.{n}".encode()) for n in range(3))
    return LineBatch(agency, source, lines)


def _drain(consumer: BusConsumer, want: int, timeout: float = 10.0) -> list[Received]:
    got: list[Received] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += consumer.fetch(max_batches=want - len(got), timeout=1.0)
    return got


def test_a_batch_round_trips_with_its_positions() -> None:
    batch = LineBatch("sở-tttt-hà-nội", "syslog://10.0.0.5", (RawLine(0, b"a"), RawLine(2, b""), RawLine(3, b"\xff")))
    again = LineBatch.decode(batch.agency, batch.source_id, batch.encode())
    assert again == batch
    assert (again.first_offset, again.last_offset) == (0, 3)


def test_an_oversized_batch_is_refused_before_it_reaches_the_bus() -> None:
    huge = LineBatch("a", "s", (RawLine(0, b"x" * MAX_BATCH_BYTES),))
    with pytest.raises(BusError, match="limit"):
        MemoryBus().publish(huge)


def test_batches_of_a_partition_come_in_publish_order(make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    agencies = ["bo-tai-chinh", "so-tttt-da-nang", "ubnd-can-tho", "cong-dvc"]
    for index in range(6):
        for agency in agencies:
            assert not bus.publish(_batch(agency, index)).duplicate
    seen: dict[str, list[int]] = {}
    for partition in range(bus.partitions):
        owned = [a for a in agencies if bus.partition_for(a) == partition]
        consumer = bus.consumer("workers", partition)
        got = _drain(consumer, 6 * len(owned), timeout=5.0 if owned else 1.0)
        assert [r.sequence for r in got] == sorted(r.sequence for r in got)
        assert {r.batch.agency for r in got} == set(owned)
        for received in got:
            seen.setdefault(received.batch.agency, []).append(received.batch.first_offset)
        consumer.ack(got)
        consumer.close()
    assert seen == {agency: [index * 1000 for index in range(6)] for agency in agencies}


def test_unacked_batches_come_again_in_order_after_the_consumer_restarts(make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    for index in range(5):
        bus.publish(_batch("bo-y-te", index))
    partition = bus.partition_for("bo-y-te")
    first = bus.consumer("workers", partition)
    got = _drain(first, 5)
    assert [r.batch.first_offset for r in got] == [0, 1000, 2000, 3000, 4000]
    assert not any(r.redelivered for r in got)
    first.ack(got[:2])  # the store committed only the first two before the worker stopped
    first.close()

    second = bus.consumer("workers", partition)
    again = _drain(second, 3)
    assert [r.batch.first_offset for r in again] == [2000, 3000, 4000]
    assert all(r.redelivered for r in again)
    assert again[0].batch == got[2].batch
    second.ack(again)
    second.close()

    third = bus.consumer("workers", partition)
    assert third.fetch(timeout=0.5) == []
    bus.publish(_batch("bo-y-te", 5))
    assert [r.batch.first_offset for r in _drain(third, 1)] == [5000]
    third.close()


def test_an_ack_covers_every_batch_before_it(make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    for index in range(5):
        bus.publish(_batch("bo-xay-dung", index))
    partition = bus.partition_for("bo-xay-dung")
    first = bus.consumer("workers", partition)
    got = _drain(first, 5)
    first.ack([got[2]])  # like a Kafka offset commit: the first three are done
    first.close()
    second = bus.consumer("workers", partition)
    assert [r.batch.first_offset for r in _drain(second, 2)] == [3000, 4000]
    second.close()


def test_a_republished_batch_is_stored_once(make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    batch = _batch("bo-cong-an", 7)
    stored = bus.publish(batch)
    again = bus.publish(LineBatch(batch.agency, batch.source_id, batch.lines))
    assert not stored.duplicate and again.duplicate
    assert again.sequence == stored.sequence
    bus.publish(_batch("bo-cong-an", 8))
    consumer = bus.consumer("workers", bus.partition_for("bo-cong-an"))
    got = _drain(consumer, 3, timeout=3.0)
    assert [r.batch.first_offset for r in got] == [7000, 8000]
    consumer.close()


def test_groups_keep_their_own_positions(make_bus: Callable[[], Bus]) -> None:
    bus = make_bus()
    bus.publish(_batch("bo-gd-dt", 0))
    partition = bus.partition_for("bo-gd-dt")
    workers, archive = bus.consumer("workers", partition), bus.consumer("archive", partition)
    workers.ack(_drain(workers, 1))
    assert [r.batch.first_offset for r in _drain(archive, 1)] == [0]
    workers.close()
    archive.close()


def test_an_unknown_partition_is_refused(make_bus: Callable[[], Bus]) -> None:
    with pytest.raises(ValueError, match="partition"):
        make_bus().consumer("workers", 4)


def test_the_position_survives_a_new_connection(cluster: Cluster) -> None:
    bus = _jetstream_bus(cluster)
    settings = bus.settings  # type: ignore[attr-defined]
    for index in range(4):
        bus.publish(_batch("so-tttt-hue", index))
    partition = bus.partition_for("so-tttt-hue")
    consumer = bus.consumer("workers", partition)
    consumer.ack(_drain(consumer, 3)[:3])
    bus.close()  # the worker process ends; its reader is never closed

    restarted = _jetstream_bus(cluster, **settings.__dict__)
    got = _drain(restarted.consumer("workers", partition), 1)
    assert [r.batch.first_offset for r in got] == [3000]
    restarted.close()


def test_publishing_goes_on_while_one_node_is_down(cluster: Cluster) -> None:
    bus = _jetstream_bus(cluster)
    bus.publish(_batch("ubnd-hai-phong", 0))
    leader = bus.stream_leader()  # type: ignore[attr-defined]
    assert leader in {"n0", "n1", "n2"}
    stopped = int(leader[1])
    cluster.stop(stopped)  # the worst node to lose: the stream must elect a new leader before it stores again
    try:
        stored = [bus.publish(_batch("ubnd-hai-phong", index)) for index in range(1, 11)]
        assert not any(p.duplicate for p in stored)
        consumer = bus.consumer("workers", bus.partition_for("ubnd-hai-phong"))
        got = _drain(consumer, 11, timeout=20.0)
        assert [r.batch.first_offset for r in got] == [index * 1000 for index in range(11)]
        consumer.ack(got)
        consumer.close()
    finally:
        cluster.start(stopped)
        bus.close()


def _stream_compression(cluster: Cluster, stream: str) -> str:
    import asyncio

    import nats

    async def read() -> str:
        client = await nats.connect(servers=list(cluster.servers))
        try:
            info = await client.jetstream().stream_info(stream)
            return str(info.config.compression or "none")
        finally:
            await client.close()

    return asyncio.run(read())


def test_the_stream_is_stored_compressed_and_an_old_one_is_brought_to_it(cluster: Cluster) -> None:
    """S2 keeps access logs in about a fifth of the disk on every node (docs/deploy.md's sizing); a stream made
    before without it is changed in place, and what it held still reads."""
    plain = _jetstream_bus(cluster, compression="none")
    settings = plain.settings  # type: ignore[attr-defined]
    assert _stream_compression(cluster, settings.stream) == "none"
    plain.publish(_batch("so-tttt-hue", 0))
    plain.close()

    reopened = _jetstream_bus(cluster, **{**settings.__dict__, "compression": "s2"})
    assert _stream_compression(cluster, settings.stream) == "s2"
    reopened.publish(_batch("so-tttt-hue", 1))
    got = _drain(reopened.consumer("workers", reopened.partition_for("so-tttt-hue")), 2)
    assert [r.batch.first_offset for r in got] == [0, 1000]
    reopened.close()
