"""The bus on NATS JetStream: one replicated stream, one subject and one durable pull consumer per partition.

nats-py is asynchronous; the collectors and workers are threads. This module owns one event loop on a
private thread and offers the synchronous contract of ``Bus``, so no caller needs to know about asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import nats
import nats.errors
from canhgac.collectors.bus.base import MAX_BATCH_BYTES, Bus, BusConsumer, BusError, LineBatch, Published, Received
from canhgac.collectors.bus.foreign import foreign_batch
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError, NoStreamResponseError, NotFoundError, ServiceUnavailableError

T = TypeVar("T")
H_AGENCY, H_SOURCE = "Canhgac-Agency", "Canhgac-Source"
H_FIRST, H_LAST = "Canhgac-First-Offset", "Canhgac-Last-Offset"
_RETRYABLE = (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.errors.ConnectionClosedError,
              nats.errors.ConnectionReconnectingError, NoStreamResponseError, ServiceUnavailableError,
              asyncio.TimeoutError)


@dataclass(frozen=True)
class JetStreamSettings:
    servers: tuple[str, ...]
    stream: str = "CANHGAC_RAW"
    subject_prefix: str = "canhgac.raw"
    partitions: int = 16
    replicas: int = 3
    duplicate_window: float = 120.0  # seconds a batch id is remembered for de-duplication
    max_age: float = 7 * 24 * 3600.0  # seconds the stream keeps batches (every group must read them within it)
    ack_wait: float = 30.0  # seconds before an unacked batch handed to a live reader is handed out again
    publish_timeout: float = 10.0  # total seconds publish keeps retrying (leader election after a node loss)
    compression: str = "s2"  # of the stream's files on each node (S2: ~5x smaller for access logs); or "none"


class JetStreamBus(Bus):
    def __init__(self, settings: JetStreamSettings) -> None:
        self.settings = settings
        self.partitions = settings.partitions
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._thread.start()
        try:
            self._nc = self._run(nats.connect(servers=list(settings.servers), max_reconnect_attempts=-1,
                                              reconnect_time_wait=0.2, connect_timeout=2), 10)
            self._js = self._nc.jetstream()
            self._run(self._ensure_stream(), 30)
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def subject(self, partition: int) -> str:
        return f"{self.settings.subject_prefix}.{partition}"

    async def _ensure_stream(self) -> None:
        s = self.settings
        config = api.StreamConfig(name=s.stream, subjects=[f"{s.subject_prefix}.*"], num_replicas=s.replicas,
                                  duplicate_window=s.duplicate_window, max_age=s.max_age,
                                  storage=api.StorageType.FILE, max_msg_size=MAX_BATCH_BYTES + 4096,
                                  compression=api.StoreCompression(s.compression))
        try:
            await self._js.add_stream(config)
        except BadRequestError:  # exists with other settings: bring it to these
            await self._js.update_stream(config)

    def publish(self, batch: LineBatch) -> Published:
        body = batch.encode()
        headers = {"Nats-Msg-Id": quote(batch.batch_id, safe=""), H_AGENCY: quote(batch.agency, safe=""),
                   H_SOURCE: quote(batch.source_id, safe=""), H_FIRST: str(batch.first_offset),
                   H_LAST: str(batch.last_offset)}
        subject = self.subject(self.partition_for(batch.agency))
        deadline = time.monotonic() + self.settings.publish_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:  # retrying is safe: the batch id makes a second copy a duplicate
                ack = self._run(self._js.publish(subject, body, timeout=min(2.0, max(remaining, 0.1)),
                                                 stream=self.settings.stream, headers=headers), remaining + 1)
                return Published(ack.seq, duplicate=bool(ack.duplicate))
            except _RETRYABLE as error:
                if time.monotonic() >= deadline:
                    raise BusError(f"stream {self.settings.stream} did not store the batch: {error!r}") from error
                time.sleep(0.2)

    def stream_leader(self) -> str | None:
        """The server name that leads the stream's replicas now (for status pages and fault tests)."""
        info = self._run(self._js.stream_info(self.settings.stream), 10)
        return info.cluster.leader if info.cluster else None

    def health(self) -> dict[str, Any]:
        """The stream as ``cluster status`` shows it: batches held, leader, and each replica's state."""
        info = self._run(self._js.stream_info(self.settings.stream), 10)
        replicas = [{"name": info.cluster.leader, "leader": True, "current": True, "offline": False, "lag": 0}] \
            if info.cluster and info.cluster.leader else []
        for peer in (info.cluster.replicas or []) if info.cluster else []:
            replicas.append({"name": peer.name, "leader": False, "current": bool(peer.current),
                             "offline": bool(peer.offline), "lag": peer.lag or 0})
        return {"stream": self.settings.stream, "batches": info.state.messages, "bytes": info.state.bytes,
                "first_sequence": info.state.first_seq, "last_sequence": info.state.last_seq,
                "replicas": replicas}

    def lag(self, group: str, partition: int) -> int | None:
        """Batches of ``partition`` the group has not acknowledged yet; None before its first reader."""
        try:
            info = self._run(self._js.consumer_info(self.settings.stream, f"{group}-p{partition}"), 10)
        except (NotFoundError, *_RETRYABLE):  # no reader yet, or its leader is being elected: unknown
            return None
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    def consumer(self, group: str, partition: int) -> BusConsumer:
        if not 0 <= partition < self.partitions:
            raise ValueError(f"partition: 0..{self.partitions - 1}")
        return _JetStreamConsumer(self, group, partition)

    def _stop_loop(self) -> None:
        async def cancel_the_rest() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self._run(cancel_the_rest(), 5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()

    def close(self) -> None:
        try:
            self._run(self._nc.close(), 5)
        finally:
            self._stop_loop()


def _batch_of(msg: Msg) -> LineBatch:
    """A collector's batch, or a shipper's message (no framing headers, or a body that is not framed) handed on
    whole, for the worker to read or to make a dead letter of (collectors/bus/foreign.py)."""
    headers = msg.headers or {}
    if H_FIRST in headers:
        try:
            batch = LineBatch.decode(unquote(headers.get(H_AGENCY, "")), unquote(headers.get(H_SOURCE, "")),
                                     msg.data)
            if batch.first_offset == int(headers[H_FIRST]) and batch.last_offset == int(headers.get(H_LAST, -1)):
                return batch
        except (struct.error, ValueError):
            pass
    return foreign_batch(msg.subject, headers, msg.data)


class _JetStreamConsumer(BusConsumer):
    """One partition for one group. Opening it rewinds the group to its last contiguous ack, like a Kafka
    consumer resuming from its committed offset, so a restarted worker sees its unfinished batches again at
    once and in order (JetStream alone would hand out newer batches first and the old ones after ack_wait).
    That rewind assumes one reader per partition and group at a time: the partition lease of issue 12."""

    def __init__(self, bus: JetStreamBus, group: str, partition: int) -> None:
        self._bus = bus
        self.partition = partition
        self._durable = f"{group}-p{partition}"
        self._unacked: dict[int, Msg] = {}
        self._handed_out_before = 0  # stream sequences up to here went to an earlier reader of the group
        self._start: int | None = None  # kept across retries: a retry must not forget the group's position
        self._delivered = self._last_sequence = 0  # consumer and stream sequences of the last batch handed out
        deadline = time.monotonic() + 30
        while True:  # consumer requests time out while the cluster elects a new leader after a node loss
            try:
                self._sub = bus._run(self._open(), 15)
                break
            except _RETRYABLE as error:
                if time.monotonic() >= deadline:
                    raise BusError(f"could not open partition {partition}: {error!r}") from error
                time.sleep(0.3)

    async def _open(self) -> Any:
        bus, s = self._bus, self._bus.settings
        if self._start is None:
            try:
                info = await bus._js.consumer_info(s.stream, self._durable)
                self._start = (info.ack_floor.stream_seq if info.ack_floor else 0) + 1
                self._handed_out_before = info.delivered.stream_seq if info.delivered else 0
            except NotFoundError:
                self._start = 1
        with contextlib.suppress(NotFoundError):
            await bus._js.delete_consumer(s.stream, self._durable)
        start = self._start
        # AckPolicy.ALL: one ack confirms every batch up to it, like a Kafka offset commit. A partition has one
        # reader that acks in stream order (after the store committed), so nothing is acked ahead of its turn.
        config = api.ConsumerConfig(durable_name=self._durable, filter_subject=bus.subject(self.partition),
                                    ack_policy=api.AckPolicy.ALL, ack_wait=s.ack_wait,
                                    deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
                                    max_ack_pending=-1)
        await bus._js.add_consumer(s.stream, config)
        return await bus._js.pull_subscribe_bind(self._durable, stream=s.stream)

    def fetch(self, max_batches: int = 16, timeout: float = 1.0) -> list[Received]:
        try:
            messages = self._bus._run(self._sub.fetch(max_batches, timeout=timeout), timeout + 5)
        except _RETRYABLE:
            return []
        out = []
        for msg in messages:
            delivery, sequence = msg.metadata.sequence.consumer, msg.metadata.sequence.stream
            if delivery != self._delivered + 1 or sequence <= self._last_sequence:
                # A fetch that timed out here while the server delivered (a leader election) leaves batches
                # handed out to nobody: they would come back after ack_wait, out of order, and an ack of a
                # later one would cover them (so would one redelivered after ack_wait, behind newer ones). Stop:
                # the caller reopens, which rewinds to the last ack.
                raise BusError(f"partition {self.partition}: delivery {delivery} after {self._delivered}; "
                               "reopen to read on in order")
            self._delivered, self._last_sequence = delivery, sequence
            batch = _batch_of(msg)
            sequence = msg.metadata.sequence.stream
            redelivered = msg.metadata.num_delivered > 1 or sequence <= self._handed_out_before
            self._unacked[sequence] = msg
            out.append(Received(batch, self.partition, sequence, redelivered))
        return out

    def ack(self, received: Sequence[Received]) -> None:
        """Acknowledges every batch up to the newest of ``received`` (cumulative): pass them in stream order."""
        newest = max((item.sequence for item in received if item.sequence in self._unacked), default=None)
        if newest is None:
            return

        async def ack_up_to() -> None:
            await self._unacked[newest].ack_sync(timeout=5)  # confirmed: a returned ack() means the position moved
            for sequence in [s for s in self._unacked if s <= newest]:
                del self._unacked[sequence]
        try:
            self._bus._run(ack_up_to(), 15)
        except _RETRYABLE as error:
            raise BusError(f"ack not confirmed (the batches will come again): {error!r}") from error

    def close(self) -> None:
        self._unacked.clear()
        try:
            self._bus._run(self._sub.unsubscribe(), 5)
        except (*_RETRYABLE, nats.errors.BadSubscriptionError):
            pass
