"""API speed: 32 concurrent clients list one agency's open incidents from 100,000 incidents of 50 agencies in
the embedded (SQLite) store, against a trivial route of the same app measured in the same run (these
machines are noisy; the ratio travels). The server runs in processes of its own (uvicorn; ``--workers`` of them
on one listening socket, as ``canhgac serve --workers``) on 127.0.0.1; the clients share one asyncio loop here.

    python bench/api.py [--incidents 100000] [--agencies 50] [--clients 32] [--seconds 8] [--workers 1]
        [--writes-per-second 10] [--db FILE]   # keep the stored incidents in FILE and reuse them next time

Ends with ``RESULT list_p50_ms=… list_p99_ms=… trivial_p50_ms=… trivial_p99_ms=… ratio_p50=… ratio_p99=… async_p50_ms=…
async_p99_ms=… ratio_async_p50=… ratio_async_p99=… list_miss_p50_ms=… list_miss_p99_ms=… list_writes_p50_ms=…
list_writes_p99_ms=…``: ``trivial`` is a plain-``def`` route (thread pool), ``async`` an ``async def`` one (event
loop, like the list route since docs/decisions/0038); each is measured before and after the lists, to even out
drift. ``list`` asks the same page again and again (answered from the kept answer, docs/decisions/0051 — the
acceptance figure), ``list_miss`` makes every query string new so that no answer is ever kept, ``list_writes`` is
``list`` while another connection changes one of the agency's incidents ``--writes-per-second`` times a second.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import itertools
import multiprocessing
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.core.config import Agency, AgencyLevel, ApiKey, Role, Settings
from canhgac.core.model import Incident, IncidentState, Severity, StateChange
from canhgac.storage.base import IncidentQuery
from canhgac.storage.sqlite import SqliteStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)
STATES = [IncidentState.new, IncidentState.acknowledged, IncidentState.investigating, IncidentState.contained,
          IncidentState.resolved, IncidentState.closed, IncidentState.closed, IncidentState.closed]


def make_settings(agencies: int) -> Settings:
    items = [Agency(id="vn", code="VN", name_vi="Quốc gia", name_en="National", level=AgencyLevel.national)]
    items += [Agency(id=f"tinh-{n:02d}", code=f"T{n:02d}", name_vi=f"Ủy ban nhân dân tỉnh {n}",
                     name_en=f"Province {n}", level=AgencyLevel.province, parent="vn") for n in range(agencies)]
    keys = [ApiKey(name=f"viewer-{a.id}", role=Role.agency_viewer, agency=a.id,
                   sha256=hashlib.sha256(f"key-{a.id}".encode()).hexdigest()) for a in items[1:]]
    return Settings(agencies=items, api_keys=keys)


def populate(store: SqliteStore, settings: Settings, count: int) -> None:
    rng = random.Random(7)
    agencies = [a for a in settings.agencies if a.level is AgencyLevel.province]
    for n in range(count):
        agency = agencies[n % len(agencies)]
        seen = T0 + timedelta(seconds=rng.randrange(0, 30 * 86400))
        state = rng.choice(STATES)
        ip = f"203.0.{rng.randrange(256)}.{rng.randrange(256)}"
        history = [] if state is IncidentState.new else [
            StateChange(at=seen + timedelta(minutes=5), actor="soc", from_state=IncidentState.new, to_state=state)]
        store.create_incident(Incident(
            id=f"{agency.code}-2026-{n:06d}", agency=agency.id, title=f"Dò quét lỗ hổng — {ip}",
            severity=rng.choice(list(Severity)), state=state, fingerprint=f"web-scan|{agency.id}|{ip}",
            rule_id="web-scan", tags=["attack.reconnaissance", "attack.t1595"], entities={"source.ip": ip},
            alert_ids=[f"al-{n}-{k}" for k in range(3)], alert_count=3, first_seen=seen - timedelta(minutes=3),
            last_seen=seen, created=seen, updated=seen, detected_at=seen, history=history))


def serve(db: str, agencies: int, sock: socket.socket) -> None:
    """One server process on the shared listening socket, as ``canhgac serve --workers N`` runs them."""
    import uvicorn
    from canhgac.api import create_app

    settings = make_settings(agencies)
    app = create_app(settings, SqliteStore(db))
    app.add_api_route("/bench/trivial", lambda: {"ok": True})  # a plain def: FastAPI runs it in the thread pool
    app.add_api_route("/bench/trivial-async", _trivial_async)  # on the event loop, as the list route now runs
    gc.freeze()  # as canhgac serve does before it serves
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


async def _trivial_async() -> dict[str, bool]:
    return {"ok": True}


def write_incidents(db: str, agency: str, per_second: float, stop: threading.Event) -> None:
    """Another process's writes, as collection makes them: an incident of the listed agency changes (its title)
    ``per_second`` times a second, through a store connection of its own."""
    store = SqliteStore(db)
    try:
        [incident] = store.search_incidents(IncidentQuery(agencies=frozenset({agency}), limit=1))
        while not stop.wait(1 / per_second):
            incident = store.update_incident(incident.model_copy(update={"title": f"{incident.title[:60]} ·"}),
                                             expected_version=str(incident.version))
    finally:
        store.close()


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # as canhgac serve makes it
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.set_inheritable(True)
    return sock


async def _client(host: str, port: int, request: Callable[[], bytes], deadline: float, latencies: list[float],
                  sizes: list[int]) -> None:
    """One keep-alive HTTP/1.1 connection, one request at a time. A bare client on asyncio streams: httpx
    would spend more CPU per request than the server's trivial route, on the same two cores."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"HTTP {status}")
            sizes.append(length)
    finally:
        writer.close()


async def measure(port: int, path: str, headers: dict[str, str], clients: int, seconds: float,
                  vary: bool = False) -> tuple[list[float], int]:
    """``vary``: every request's query string is new (an ignored ``_`` parameter), so none is a kept answer."""
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    fixed = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
    counter = itertools.count()

    def request() -> bytes:
        if not vary:
            return fixed
        return f"GET {path}&_={next(counter)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()

    warm: list[float] = []
    await _client("127.0.0.1", port, request, time.perf_counter() + 0.5, warm, [])
    latencies: list[float] = []
    sizes: list[int] = []
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(_client("127.0.0.1", port, request, deadline, latencies, sizes) for _ in range(clients)))
    return latencies, sizes[-1] if sizes else 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def wait_until_up(port: int, process: Any) -> None:
    for _ in range(300):
        if not process.is_alive():
            raise SystemExit("the server did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--writes-per-second", type=float, default=10.0,
                        help="incident writes by another connection during the list_writes phase")
    parser.add_argument("--workers", type=int, default=1, help="server processes on one socket (as serve --workers)")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the store in this file and reuse it when it exists (same --incidents/--agencies)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canhgac-bench-") as tmp:
        db = str(args.db or Path(tmp) / "canhgac.db")
        settings = make_settings(args.agencies)
        if args.db is None or not args.db.exists():
            started = time.perf_counter()
            store = SqliteStore(db)
            print(f"storing {args.incidents} incidents (one store write each, as the service does)…", flush=True)
            populate(store, settings, args.incidents)
            store.close()
            print(f"stored {args.incidents} incidents of {args.agencies} agencies in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        sock = listening_socket()
        port = sock.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=serve, args=(db, args.agencies, sock), daemon=True)
                     for _ in range(args.workers)]
        for process in processes:
            process.start()
        try:
            for process in processes:
                wait_until_up(port, process)
            time.sleep(1.0)  # every worker has its app built before the clock starts
            agency = "tinh-07"
            headers = {"X-API-Key": f"key-{agency}"}
            listing = "/api/v1/incidents?" + "&".join(f"state={s.value}" for s in IncidentState if s.is_open)
            results = {}
            phases = (("trivial", "/bench/trivial"), ("async", "/bench/trivial-async"), ("list", listing),
                      ("list_miss", listing), ("list_writes", listing), ("async2", "/bench/trivial-async"),
                      ("trivial2", "/bench/trivial"))
            for name, path in phases:
                stop = threading.Event()
                writer = threading.Thread(target=write_incidents, args=(db, agency, args.writes_per_second, stop))
                if name == "list_writes":
                    writer.start()
                try:
                    latencies, size = asyncio.run(measure(port, path, headers, args.clients, args.seconds,
                                                          vary=name == "list_miss"))
                finally:
                    stop.set()
                    if writer.is_alive():
                        writer.join()
                results[name] = latencies
                print(f"{name}: {len(latencies)} requests, {len(latencies) / args.seconds:.0f}/s, "
                      f"p50 {percentile(latencies, 0.5):.2f} ms, p99 {percentile(latencies, 0.99):.2f} ms, "
                      f"mean {statistics.fmean(latencies) * 1000:.2f} ms, {size} bytes", flush=True)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(10)
            sock.close()
    trivial = results["trivial"] + results["trivial2"]  # before and after the listing, to even out drift
    list_p50, list_p99 = percentile(results["list"], 0.5), percentile(results["list"], 0.99)
    miss_p50, miss_p99 = percentile(results["list_miss"], 0.5), percentile(results["list_miss"], 0.99)
    writes_p50, writes_p99 = percentile(results["list_writes"], 0.5), percentile(results["list_writes"], 0.99)
    trivial_p50, trivial_p99 = percentile(trivial, 0.5), percentile(trivial, 0.99)
    floor = results["async"] + results["async2"]
    async_p50, async_p99 = percentile(floor, 0.5), percentile(floor, 0.99)
    print(f"RESULT incidents={args.incidents} agencies={args.agencies} clients={args.clients} workers={args.workers} "
          f"list_p50_ms={list_p50:.2f} list_p99_ms={list_p99:.2f} trivial_p50_ms={trivial_p50:.2f} "
          f"trivial_p99_ms={trivial_p99:.2f} ratio_p50={list_p50 / trivial_p50:.2f} "
          f"ratio_p99={list_p99 / trivial_p99:.2f} async_p50_ms={async_p50:.2f} async_p99_ms={async_p99:.2f} "
          f"ratio_async_p50={list_p50 / async_p50:.2f} ratio_async_p99={list_p99 / async_p99:.2f} "
          f"list_miss_p50_ms={miss_p50:.2f} list_miss_p99_ms={miss_p99:.2f} "
          f"list_writes_p50_ms={writes_p50:.2f} list_writes_p99_ms={writes_p99:.2f} "
          f"writes_per_second={args.writes_per_second:g} "
          f"goal_p99_ms=50 met={'yes' if list_p99 < 50 else 'no'}")


if __name__ == "__main__":
    main()
