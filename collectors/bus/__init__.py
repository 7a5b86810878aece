"""The bus between collectors and workers: batches of raw lines, partitioned by agency (decision 0039)."""

from canhgac.collectors.bus.base import (
    MAX_BATCH_BYTES,
    Bus,
    BusConsumer,
    BusError,
    LineBatch,
    Published,
    Received,
    partition_of,
)
from canhgac.collectors.bus.memory import MemoryBus

__all__ = ["MAX_BATCH_BYTES", "Bus", "BusConsumer", "BusError", "LineBatch", "MemoryBus", "Published", "Received",
           "partition_of"]
