"""The events table as it grows: ``SqliteStore.put_events`` in batches of 5,000 into one file up to ``--events``
rows, the rate of the first and the last slice, beside the same inserts into the earlier layout (a primary key
on the random event id) measured in the same run (docs/decisions/0053). A store must not slow down with the
days it keeps: the figure that matters is ``last_ratio``, the layout's last slice against its own first.

    python bench/event_table.py [--events 3000000] [--slice 500000]

Ends with ``RESULT first_eps=… last_eps=… last_ratio=… keyed_first_eps=… keyed_last_eps=… keyed_last_ratio=…
lookup_ms=…``.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.storage.sqlite import SqliteStore
from canhgac.storage.sqlite.packed import PackedEvents

BATCH = 5000
T0_MS = 1_795_000_000_000
STEP_MS = 40  # 25 events a second of log time
DOC = orjson.dumps({"event.original": "x" * 900, "url.path": "/thu-tuc/tra-cuu"}).decode()  # ~1 KB, as a web line


def batch(start: int) -> PackedEvents:
    return PackedEvents([(hashlib.blake2b(b"%d" % n, digest_size=16).hexdigest(), T0_MS + n * STEP_MS, "binhdinh",
                          DOC) for n in range(start, start + BATCH)])


def grow(store: SqliteStore, events: int, slice_size: int) -> list[float]:
    """Rows/s per slice of ``slice_size`` rows."""
    rates, started = [], time.perf_counter()
    for start in range(0, events, BATCH):
        store.put_events(batch(start))
        if (start + BATCH) % slice_size == 0:
            now = time.perf_counter()
            rates.append(slice_size / (now - started))
            print(f"  {start + BATCH:>9,} rows: {rates[-1]:>8,.0f} rows/s", flush=True)
            started = now
    return rates


def keyed_store(path: Path) -> SqliteStore:
    """A file made with the layout before decision 0053, opened by today's store."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, ts INTEGER NOT NULL, agency TEXT NOT NULL, "
                 "doc TEXT NOT NULL)")
    conn.close()
    return SqliteStore(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--slice", type=int, default=500_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("span-keyed events table (today's layout):")
        store = SqliteStore(Path(tmp) / "span.db")
        spans = grow(store, args.events, args.slice)
        newest = hashlib.blake2b(b"%d" % (args.events - 7), digest_size=16).hexdigest()
        oldest = hashlib.blake2b(b"7", digest_size=16).hexdigest()
        started = time.perf_counter()
        assert store.get_event(newest) is not None and store.get_event(oldest) is not None
        lookup_ms = (time.perf_counter() - started) * 1000 / 2
        store.close()
        print("id-keyed events table (files made before 0053):")
        store = keyed_store(Path(tmp) / "keyed.db")
        keyed = grow(store, args.events, args.slice)
        store.close()
    print(f"today's layout: first {spans[0]:,.0f}, last {spans[-1]:,.0f} rows/s ({spans[-1] / spans[0]:.0%}); "
          f"id-keyed: first {keyed[0]:,.0f}, last {keyed[-1]:,.0f} rows/s ({keyed[-1] / keyed[0]:.0%}); "
          f"lookup by id {lookup_ms:.1f} ms (newest and oldest of {args.events * STEP_MS / 86_400_000:.1f} days)")
    print(f"RESULT first_eps={spans[0]:.0f} last_eps={spans[-1]:.0f} last_ratio={spans[-1] / spans[0]:.3f} "
          f"keyed_first_eps={keyed[0]:.0f} keyed_last_eps={keyed[-1]:.0f} keyed_last_ratio={keyed[-1] / keyed[0]:.3f} "
          f"lookup_ms={lookup_ms:.2f}")


if __name__ == "__main__":
    main()
