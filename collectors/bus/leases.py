"""Partition ownership for workers: one lease per partition in a JetStream key-value bucket (decision 0047).

Every entry of the bucket lives ``ttl`` seconds after its last write (the bucket's ``max_age``). A worker
announces itself under ``worker.<id>`` and holds partition *p* under ``lease.<p>``; both are written with
revision checks (``create`` only if absent, ``update(last=revision)``), so two workers never both believe they
won the same partition. A worker that stops renewing loses its leases when they expire; the others then take
the partitions. A worker owns at most ceil(partitions / live workers), and gives back the extras when a new
worker shows up.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import dataclass, field

from canhgac.collectors.bus.jetstream import _RETRYABLE, JetStreamBus
from nats.js import api
from nats.js.errors import APIError, BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue

LEASE, WORKER = "lease.", "worker."
_LOST = (KeyWrongLastSequenceError, KeyNotFoundError, APIError)


@dataclass(frozen=True)
class Plan:
    """What a worker should do this round: give back ``release`` (after saving their state), try ``claim``."""

    release: tuple[int, ...]
    claim: tuple[int, ...]
    quota: int
    live_workers: int


@dataclass
class PartitionLeases:
    bus: JetStreamBus
    worker: str
    bucket: str = "canhgac_leases"
    ttl: float = 10.0
    held: dict[int, int] = field(default_factory=dict)  # partition → revision of our lease entry
    _kv: KeyValue | None = None
    _announced: int = 0
    _renewed_at: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.partitions = self.bus.partitions
        self._kv = self.bus._run(self._open(), 30)

    async def _open(self) -> KeyValue:
        js = self.bus._js
        try:
            return await js.key_value(self.bucket)
        except NotFoundError:
            config = api.KeyValueConfig(bucket=self.bucket, ttl=self.ttl, history=1,
                                        replicas=self.bus.settings.replicas)
            try:
                return await js.create_key_value(config)
            except BadRequestError:  # another worker made it meanwhile
                return await js.key_value(self.bucket)

    @property
    def kv(self) -> KeyValue:
        assert self._kv is not None
        return self._kv

    def _call(self, coro, timeout: float = 5.0):  # type: ignore[no-untyped-def]
        return self.bus._run(coro, timeout)

    # what the bucket says -------------------------------------------------------------------------
    def entries(self) -> dict[str, str]:
        """Every live key and its value (expired entries are gone)."""
        async def read() -> dict[str, str]:
            watcher = await self.kv.watchall(ignore_deletes=True)
            found = {}
            try:
                async for entry in watcher:
                    if entry is None:  # the end of what the bucket holds now
                        break
                    if entry.operation is None and entry.value is not None:
                        found[entry.key] = entry.value.decode()
            finally:
                await watcher.stop()
            return found
        return self._call(read(), 10)

    def owners(self) -> dict[int, str]:
        return {int(key[len(LEASE):]): value for key, value in self.entries().items() if key.startswith(LEASE)}

    def live_workers(self) -> dict[str, dict[str, object]]:
        found = {}
        for key, value in self.entries().items():
            if key.startswith(WORKER):
                try:
                    found[key[len(WORKER):]] = json.loads(value)
                except ValueError:
                    found[key[len(WORKER):]] = {}
        return found

    # one round ------------------------------------------------------------------------------------
    def heartbeat(self, about: dict[str, object] | None = None) -> None:
        body = json.dumps({"at": time.time(), "partitions": sorted(self.held), **(about or {})}).encode()
        key = WORKER + self.worker
        try:
            self._announced = self._call(self.kv.update(key, body, last=self._announced) if self._announced
                                         else self.kv.create(key, body))
        except _LOST:
            self._announced = self._call(self.kv.put(key, body))

    def renew(self) -> list[int]:
        """Write every held lease again; returns the partitions whose lease was lost (expired, taken)."""
        lost = []
        for partition, revision in list(self.held.items()):
            sent = time.monotonic()  # the entry lives ttl from its write, which is after this
            try:
                self.held[partition] = self._call(self.kv.update(self._key(partition), self.worker.encode(),
                                                                 last=revision))
                self._renewed_at[partition] = sent
            except _LOST:
                lost.append(partition)
                self.held.pop(partition, None)
                self._renewed_at.pop(partition, None)
        return lost

    def still_mine(self, partition: int, margin: float) -> bool:
        """Our lease on ``partition`` was renewed recently enough that it cannot have expired (fencing check
        before acknowledging: another worker may only read a partition after our lease is gone)."""
        renewed = self._renewed_at.get(partition)
        return renewed is not None and time.monotonic() - renewed < self.ttl - margin

    def plan(self) -> Plan:
        workers = max(1, len(self.live_workers()))
        quota = math.ceil(self.partitions / workers)
        owners = self.owners()
        release = tuple(sorted(self.held)[quota:]) if len(self.held) > quota else ()
        want = quota - len(self.held)
        start = zlib.crc32(self.worker.encode()) % self.partitions  # workers try the free ones in different orders
        order = [(start + n) % self.partitions for n in range(self.partitions)]
        free = [p for p in order if p not in owners and p not in self.held]
        return Plan(release, tuple(free[:max(want, 0)]), quota, workers)

    def claim(self, partition: int) -> bool:
        sent = time.monotonic()
        try:
            self.held[partition] = self._call(self.kv.create(self._key(partition), self.worker.encode()))
        except _LOST:
            return False
        self._renewed_at[partition] = sent
        return True

    def release(self, partition: int) -> None:
        revision = self.held.pop(partition, None)
        self._renewed_at.pop(partition, None)
        if revision is None:
            return
        try:
            self._call(self.kv.delete(self._key(partition), last=revision))
        except (*_LOST, *_RETRYABLE):
            pass  # taken or unreachable: it expires on its own

    def leave(self) -> None:
        for partition in list(self.held):
            self.release(partition)
        try:
            self._call(self.kv.delete(WORKER + self.worker))
        except (*_LOST, *_RETRYABLE):
            pass

    @staticmethod
    def _key(partition: int) -> str:
        return f"{LEASE}{partition}"
