"""An in-process bus with the contract of the real one: ordered partitions, dedup, redelivery of unacked."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from canhgac.collectors.bus.base import Bus, BusConsumer, LineBatch, Published, Received


class MemoryBus(Bus):
    def __init__(self, partitions: int = 4) -> None:
        if partitions < 1:
            raise ValueError("partitions: at least 1")
        self.partitions = partitions
        self._log: list[list[tuple[int, LineBatch]]] = [[] for _ in range(partitions)]
        self._by_id: dict[str, int] = {}
        self._acked: dict[tuple[str, int], set[int]] = {}
        self._handed_out: dict[tuple[str, int], set[int]] = {}
        self._sequence = 0
        self._cond = threading.Condition()

    def publish(self, batch: LineBatch) -> Published:
        batch.encode()  # the same size limit as on the wire
        with self._cond:
            known = self._by_id.get(batch.batch_id)
            if known is not None:
                return Published(known, duplicate=True)
            self._sequence += 1
            self._by_id[batch.batch_id] = self._sequence
            self._log[self.partition_for(batch.agency)].append((self._sequence, batch))
            self._cond.notify_all()
            return Published(self._sequence, duplicate=False)

    def consumer(self, group: str, partition: int) -> BusConsumer:
        if not 0 <= partition < self.partitions:
            raise ValueError(f"partition: 0..{self.partitions - 1}")
        return _MemoryConsumer(self, group, partition)

    def close(self) -> None:
        pass


class _MemoryConsumer(BusConsumer):
    def __init__(self, bus: MemoryBus, group: str, partition: int) -> None:
        self._bus = bus
        self._key = (group, partition)
        self.partition = partition
        self._pending: set[int] = set()  # handed out by this reader, not yet acked

    def fetch(self, max_batches: int = 16, timeout: float = 1.0) -> list[Received]:
        bus = self._bus
        deadline = time.monotonic() + timeout
        with bus._cond:
            while True:
                acked = bus._acked.setdefault(self._key, set())
                seen = bus._handed_out.setdefault(self._key, set())
                ready = [(seq, batch) for seq, batch in bus._log[self.partition]
                         if seq not in acked and seq not in self._pending][:max_batches]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    break
                bus._cond.wait(remaining)
            out = [Received(batch, self.partition, seq, redelivered=seq in seen) for seq, batch in ready]
            for seq, _ in ready:
                self._pending.add(seq)
                seen.add(seq)
            return out

    def ack(self, received: Sequence[Received]) -> None:
        """Cumulative, as on JetStream: every batch handed out up to the newest of ``received``."""
        if not received:
            return
        newest = max(item.sequence for item in received)
        with self._bus._cond:
            acked = self._bus._acked.setdefault(self._key, set())
            for sequence in [s for s in self._pending if s <= newest]:
                acked.add(sequence)
                self._pending.discard(sequence)

    def close(self) -> None:
        self._pending.clear()
