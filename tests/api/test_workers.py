"""``canhgac serve --workers 2``: two processes answer the API from one store; versions (ETags) agree whichever
process answers, list rows never go stale after a change, and a log push reaching the API-only worker is
relayed to the process that collects. Which process answers is forced by pausing the other (SIGSTOP): a paused
process accepts nothing, so every new connection goes to the one still running."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_demo import free_port
from tests.collectors import fixtures as fx
from tests.conftest import EXAMPLE_CONFIG

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and pauses processes with SIGSTOP")
ADMIN_KEY = "khoa-quan-tri-cua-bai-thu"
PUSH_TOKEN = "ma-day-log-cua-bai-thu"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def _config(tmp_path: Path) -> Path:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    digest = hashlib.sha256(ADMIN_KEY.encode()).hexdigest()
    config["api_keys"] = [{"name": "soc", "role": "soc_admin", "sha256": digest}]
    for system in config["systems"]:
        system.pop("log_sources", None)
    config["systems"][0]["log_sources"] = [{"type": "http", "name": "fluent", "format": "nginx",
                                            "token_sha256": hashlib.sha256(PUSH_TOKEN.encode()).hexdigest()}]
    config["detection"]["anomaly"] = {"enabled": False}
    path = tmp_path / "canhgac.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
          raw: bytes | None = None, timeout: float = 20) -> Answer:
    """One request on a new connection (urllib does not keep connections), so any process may take it."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"X-API-Key": ADMIN_KEY, "Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                          json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read() or b"null"))


def _listeners(port: int) -> list[int]:
    """The processes holding the listening socket of ``port`` (found through /proc/net/tcp and their fds)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
            except OSError:
                continue
            if links & inodes:
                holders.append(int(entry.name))
    return holders


@contextmanager
def _paused(pid: int) -> Iterator[None]:
    """The process stopped, but never inside a write to the store: stopped holding SQLite's write lock, it would
    keep the other process's writes waiting until the request under test timed out."""
    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        while _state(pid) not in ("T", "t"):
            time.sleep(0.001)
        if not _writing(pid):
            break
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _writing(pid: int) -> bool:
    """Whether ``pid`` holds a write lock on the byte SQLite's WAL index reserves for the one writer (offset 120
    of the -shm file), as /proc/locks lists POSIX locks."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "POSIX" and fields[3] == "WRITE" and fields[4] == str(pid) \
                and fields[6] == "120":
            return True
    return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, int]]:
    """(port, pid of the first process, pid of the API-only worker), shared by this module's tests: starting two
    processes is most of their time. Only the first test opens incidents and only the push test stores events,
    so each test's counts stay its own."""
    tmp_path = tmp_path_factory.mktemp("workers")
    port = free_port()
    env = {**os.environ, "CANHGAC_HOME": str(tmp_path / "home"), "CANHGAC_LANG": "en"}
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("CANHGAC_CONFIG", None)
    process = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "serve", "--config", str(_config(tmp_path)),
                                "--port", str(port), "--workers", "2"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            workers = [pid for pid in _listeners(port) if pid != process.pid]
            if workers and _up(port, workers[0], process.pid):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"serve did not come up: {process.communicate(timeout=5)}")
        assert len(workers) == 1
        yield port, process.pid, workers[0]
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in err, (out, err)


def _up(port: int, worker: int, primary: int) -> bool:
    """Both processes answer health (each checked with the other paused)."""
    try:
        for pid in (primary, worker):
            with _paused(pid):
                if _call(port, "GET", "/api/v1/health", timeout=2).status != 200:
                    return False
        return True
    except OSError:
        return False


def test_two_workers_agree_on_versions_and_lists(served: tuple[int, int, int]) -> None:
    port, primary, worker = served
    with _paused(primary):  # the worker answers
        created = _call(port, "POST", "/api/v1/incidents",
                        {"agency": "vpcp", "title": "Tấn công thử", "severity": "high"})
    assert created.status == 201, created.body
    number, first_tag = created.body["id"], created.headers["etag"]
    with _paused(worker):  # the first process answers, from the same store
        seen = _call(port, "GET", f"/api/v1/incidents/{number}")
        listed = _call(port, "GET", "/api/v1/incidents?state=new")
        changed = _call(port, "PATCH", f"/api/v1/incidents/{number}", {"title": "Tấn công đã đổi"},
                        headers={"If-Match": first_tag})
    assert seen.status == 200 and seen.headers["etag"] == first_tag
    assert [row["title"] for row in listed.body if row["id"] == number] == ["Tấn công thử"]
    assert changed.status == 200 and changed.headers["etag"] != first_tag
    with _paused(primary):  # the worker saw the old row in no list, but built none: ask it twice around a change
        stale = _call(port, "PATCH", f"/api/v1/incidents/{number}", {"title": "Ghi đè"},
                      headers={"If-Match": first_tag})
        row = [r for r in _call(port, "GET", "/api/v1/incidents?state=new").body if r["id"] == number]
        detail = _call(port, "GET", f"/api/v1/incidents/{number}")
    assert stale.status == 412
    assert [r["title"] for r in row] == ["Tấn công đã đổi"] and row[0]["version"] == detail.body["version"]
    assert detail.headers["etag"] == changed.headers["etag"]
    with _paused(worker):  # the first process listed the old version: its cached row must not come back
        again = [r for r in _call(port, "GET", "/api/v1/incidents?state=new").body if r["id"] == number]
        other = _call(port, "POST", "/api/v1/incidents",
                      {"agency": "vpcp", "title": "Sự cố thứ hai", "severity": "low"})
        first_page = _call(port, "GET", "/api/v1/incidents?limit=1&sort=id")
    assert [r["title"] for r in again] == ["Tấn công đã đổi"]
    assert first_page.headers["x-total-count"] == "2" and "x-next-cursor" in first_page.headers
    with _paused(primary):  # a page's cursor from one process works in the other
        cursor = urllib.parse.quote(first_page.headers["x-next-cursor"])
        second_page = _call(port, "GET", f"/api/v1/incidents?limit=1&sort=id&cursor={cursor}")
    assert {first_page.body[0]["id"], second_page.body[0]["id"]} == {number, other.body["id"]}


def test_a_push_to_the_api_worker_reaches_the_collecting_process(served: tuple[int, int, int]) -> None:
    port, primary, _ = served
    answers: list[Answer] = []
    push = threading.Thread(target=lambda: answers.append(_call(
        port, "POST", "/api/v1/ingest", raw=(fx.NGINX_COMBINED + "\n").encode(),
        headers={"X-API-Key": PUSH_TOKEN, "Content-Type": "text/plain"})))
    probes: list[Answer] = []
    probe = threading.Thread(target=lambda: probes.append(_call(  # shippers probe the Elasticsearch root
        port, "HEAD", "/api/v1/ingest/es/", headers={"X-API-Key": PUSH_TOKEN})))
    with _paused(primary):  # only the worker can take the push; it waits for the first process to answer
        push.start()
        probe.start()
        time.sleep(1.0)
        assert not answers and not probes
    push.join(30)
    probe.join(30)
    assert answers and answers[0].status == 202, answers
    root = _call(port, "GET", "/api/v1/ingest/es/", headers={"X-API-Key": PUSH_TOKEN})
    assert probes[0].status == 200 and probes[0].headers["content-length"] == root.headers["content-length"]
    assert answers[0].body["events"] == 1
    found: list[Any] = []
    for _ in range(50):
        found = _call(port, "GET", "/api/v1/events?q=tra-cuu").body
        if found:
            break
        time.sleep(0.2)
    assert len(found) == 1 and found[0]["source.ip"] == "100.72.14.9"


def test_answers_on_a_kept_alive_connection_do_not_wait_for_delayed_acks(served: tuple[int, int, int]) -> None:
    """Without TCP_NODELAY on the served socket, each answer after the first on one connection waited ~40 ms
    (Nagle's algorithm against the client's delayed ACK); the page keeps its connections alive."""
    port, _, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    took = []
    try:
        for _ in range(21):
            started = time.perf_counter()
            connection.request("GET", "/api/v1/incidents?limit=5", headers={"X-API-Key": ADMIN_KEY})
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            took.append(time.perf_counter() - started)
    finally:
        connection.close()
    assert sorted(took[1:])[len(took) // 2] < 0.02, took


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _health_answers(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return samples.get(("canhgac_http_requests_total", (("method", "GET"), ("route", "/api/v1/health"),
                                                        ("status", "200"))), 0.0)


def test_metrics_count_the_requests_of_every_process_whichever_takes_the_scrape(
        served: tuple[int, int, int]) -> None:
    """Prometheus scrapes one connection: before, it saw the counts of whichever process took it, so counters
    jumped back and forth between scrapes and the ingest totals came and went."""
    port, primary, worker = served
    before = _health_answers(_scrape(port))
    with _paused(primary):
        for _ in range(3):
            assert _call(port, "GET", "/api/v1/health").status == 200
    with _paused(worker):
        for _ in range(2):
            assert _call(port, "GET", "/api/v1/health").status == 200
        by_primary = _scrape(port)
        for _ in range(50):  # an answer is counted once it is sent: the scrape may come first
            if _health_answers(by_primary) >= before + 5:
                break
            time.sleep(0.1)
            by_primary = _scrape(port)
    relayed: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = []
    scrape = threading.Thread(target=lambda: relayed.append(_scrape(port)))
    with _paused(primary):  # only the worker can take this scrape; it asks the first process, once resumed
        scrape.start()
        time.sleep(1.0)
    scrape.join(30)
    for samples in (by_primary, relayed[0]):
        assert _health_answers(samples) == before + 5
        assert ("canhgac_events_stored_total", ()) in samples  # the pipeline's totals, kept by the first process
        assert ("process_cpu_seconds_total", ()) in samples
