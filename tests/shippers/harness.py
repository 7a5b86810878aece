"""What every shipper test needs: a mixed nginx + sshd log with known attacks, what a plain ``canhgac ingest``
of it stores (the reference), a real ``canhgac serve`` on 127.0.0.1 with a syslog listener and a push token, and
the field-by-field comparison of what a shipper delivered with the reference."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from canhgac.core.model import Alert, Event
from canhgac.storage.base import AlertQuery, EventQuery
from canhgac.storage.sqlite import SqliteStore

from tests.conftest import EXAMPLE_CONFIG

PUSH_TOKEN = "ma-day-log-cua-may-chu-dvc-binhdinh"
API_KEY = "khoa-api-rieng-cua-bai-kiem-tra"
SYSTEM, AGENCY = "dvc-binhdinh", "binhdinh"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: The fields a relay must not change (issue 14), and the dataset that says which parser read the line.
COMPARED = ("@timestamp", "event.dataset", "event.action", "event.outcome", "source.ip", "user.name",
            "url.path", "url.query", "url.original", "http.response.status_code")
ATTACKER, SPRAYER = "185.220.101.45", "45.148.10.12"
SQL_INJECTIONS = ("/tra-cuu?ma_ho_so=1%27%20OR%20%271%27=%271", "/tra-cuu?ma_ho_so=1%20UNION%20SELECT%20username,"
                  "password%20FROM%20users--", "/ho-so?id=1;DROP%20TABLE%20hoso--",
                  "/ho-so?id=1%20AND%20SLEEP(5)", "/tin-tuc?id=-1%20UNION%20ALL%20SELECT%20NULL,NULL,version()--",
                  "/tra-cuu?q=%27%20OR%201=1--")


@dataclass(frozen=True)
class MixedLogs:
    nginx: Path
    auth: Path

    @property
    def lines(self) -> int:
        return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (self.nginx, self.auth))


def write_mixed_logs(folder: Path, *, start: datetime | None = None) -> MixedLogs:
    """An nginx access log (citizens, six SQL injections, a path traversal, a scanner) and an auth.log (an SSH
    brute force that then succeeds, spraying from a second address, a normal admin login), one minute long,
    ending a few minutes ago: recent enough for the correlation windows, never in the future."""
    folder.mkdir(parents=True, exist_ok=True)
    start = (start or datetime.now(ZONE) - timedelta(minutes=6)).replace(microsecond=0)
    access, auth = [], []
    paths = [f"/ho-so/{n}?trang={n % 4}" for n in range(30)]
    attacks = [*SQL_INJECTIONS, "/tai-lieu?file=../../../../etc/passwd"]
    for n, path in enumerate(paths):
        at = start + timedelta(seconds=n * 2)
        access.append(_access(f"14.161.{n % 9}.{n + 10}", at, path, 200, "Mozilla/5.0 (Windows NT 10.0; Win64)"))
        if n % 4 == 0 and attacks:
            access.append(_access("103.97.125.17", at + timedelta(seconds=1), attacks.pop(0), 403,
                                  "Mozilla/5.0 (X11; Linux x86_64)"))
    access.append(_access("103.97.125.17", start + timedelta(seconds=59), "/wp-login.php", 404, "sqlmap/1.7.2#stable"))
    for n in range(12):
        at = start + timedelta(seconds=3 + n * 3)
        user = "root" if n % 3 else f"invalid user {('admin', 'oracle', 'test', 'ubuntu')[n // 3]}"
        auth.append(_sshd(at, 20201 + n, f"Failed password for {user} from {ATTACKER} port {51000 + n} ssh2"))
    auth.append(_sshd(start + timedelta(seconds=41), 20300,
                      f"Accepted password for root from {ATTACKER} port 51200 ssh2"))
    for n, user in enumerate(("postgres", "git", "deploy", "backup", "www-data", "guest")):
        auth.append(_sshd(start + timedelta(seconds=44 + n), 20400 + n,
                          f"Failed password for invalid user {user} from {SPRAYER} port {40022 + n} ssh2"))
    auth.append(_sshd(start + timedelta(seconds=55), 20500, "Accepted publickey for quantri from 10.52.0.5 port "
                      "50022 ssh2: ED25519 SHA256:q2cKxEfxkXSjr0mWz2o3Jv8wJj8r3M8Xb2bqvZ8Xw1k"))
    logs = MixedLogs(folder / "access.log", folder / "auth.log")
    logs.nginx.write_text("".join(f"{line}\n" for line in access), encoding="utf-8")
    logs.auth.write_text("".join(f"{line}\n" for line in auth), encoding="utf-8")
    return logs


def _access(ip: str, at: datetime, target: str, status: int, agent: str) -> str:
    return f'{ip} - - [{at:%d/%b/%Y:%H:%M:%S %z}] "GET {target} HTTP/1.1" {status} {len(target) * 7} "-" "{agent}"'


def _sshd(at: datetime, pid: int, text: str) -> str:
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S} dvc-web01 sshd[{pid}]: {text}"


# what a store holds -------------------------------------------------------------------------------------------
@dataclass
class Stored:
    events: list[Event]
    alerts: list[Alert]
    dead_letters: int

    def fields(self) -> Counter[tuple[Any, ...]]:
        return Counter(tuple(_value(event.get(name)) for name in COMPARED) for event in self.events)

    def detections(self) -> Counter[tuple[Any, ...]]:
        """Alerts by rule, what they are about and when, and how many events they hold."""
        return Counter((a.rule_id, tuple(sorted(a.entities.items())), a.first_seen, a.last_seen, a.count)
                       for a in self.alerts)


def _value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def read_store(database: Path) -> Stored:
    store = SqliteStore(database)
    try:
        events = store.search_events(EventQuery(limit=100_000, newest_first=False))
        alerts = store.search_alerts(AlertQuery(limit=10_000))
        letters = len(store.search_dead_letters(limit=10_000))
    finally:
        store.close()
    return Stored(events, alerts, letters)


def count_rows(database: Path, table: str = "events") -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database, timeout=5) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


MIXED_ALERTS = frozenset({"SSH Brute Force", "SQL Injection Attempt in the Request"})


def assert_same_as_ingest(delivered: Stored, reference: Stored, expected: frozenset[str] = MIXED_ALERTS) -> None:
    """The same events field by field and the same alerts as ``canhgac ingest``, ``expected`` among them."""
    assert delivered.dead_letters == 0, "a shipper's lines became dead letters"
    missing, extra = reference.fields() - delivered.fields(), delivered.fields() - reference.fields()
    assert not missing and not extra, f"not what ingest stores: missing {list(missing)[:3]}, extra {list(extra)[:3]}"
    missing, extra = reference.detections() - delivered.detections(), delivered.detections() - reference.detections()
    assert not missing and not extra, f"other alerts than ingest's: missing {list(missing)}, extra {list(extra)}"
    assert {a.rule_title for a in delivered.alerts} >= expected


# the reference and the server ---------------------------------------------------------------------------------
def write_config(folder: Path, *, http_port: int, tcp_port: int | None, udp_port: int | None,
                 relp_port: int | None = None) -> Path:
    """The example configuration with one private API key, the push token and a syslog listener on
    127.0.0.1 whose sender 127.0.0.1 belongs to dvc-binhdinh; no files tailed, no anomaly model."""
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["api_keys"] = [{"name": "tests", "role": "soc_admin", "sha256": _sha(API_KEY)}]
    for system in config["systems"]:
        system.pop("log_sources", None)
        if system["id"] == SYSTEM:
            system["log_sources"] = [
                {"type": "http", "name": "shipper", "format": "nginx", "token_sha256": _sha(PUSH_TOKEN)},
                {"type": "syslog", "senders": ["127.0.0.1"]}]
    config["detection"]["anomaly"] = {"enabled": False}
    config.setdefault("collection", {})
    if tcp_port or udp_port:
        config["collection"]["syslog"] = [{"name": "relay", "host": "127.0.0.1", "tcp_port": tcp_port,
                                           "udp_port": udp_port, "relp_port": relp_port}]
    config["collection"]["status_interval_seconds"] = 0.5
    path = folder / "canhgac.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def environment(home: Path) -> dict[str, str]:
    env = {**os.environ, "CANHGAC_HOME": str(home), "CANHGAC_LANG": "en"}
    for name in ("SLACK_BOT_TOKEN", "CANHGAC_CONFIG"):
        env.pop(name, None)
    return env


def canhgac(home: Path, config: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canhgac.cli", *argv, "--config", str(config)],
                          env=environment(home), capture_output=True, text=True, timeout=timeout)


def ingest_reference(folder: Path, logs: MixedLogs) -> Stored:
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, http_port=0, tcp_port=None, udp_port=None)
    home = folder / "home"
    for path, source in ((logs.nginx, "nginx"), (logs.auth, "auth")):
        done = canhgac(home, config, "ingest", str(path), "--source", source, "--system", SYSTEM)
        assert done.returncode == 0, done.stderr
    return read_store(home / "canhgac.db")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``canhgac serve`` in its own process and home, with the push token and a syslog listener."""

    folder: Path
    http_port: int = field(default_factory=free_port)
    tcp_port: int = field(default_factory=free_port)
    udp_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    relp_port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.home = self.folder / "home"
        self.config = write_config(self.folder, http_port=self.http_port, tcp_port=self.tcp_port,
                                   udp_port=self.udp_port, relp_port=self.relp_port)

    @property
    def database(self) -> Path:
        return self.home / "canhgac.db"

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/api/v1/ingest/es"

    def start(self, timeout: float = 30) -> Server:
        self.starts += 1
        output = (self.folder / f"serve-{self.starts}.out").open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "canhgac.cli", "serve", "--config", str(self.config), "--port", str(self.http_port)],
            env=environment(self.home), stdout=output, stderr=subprocess.STDOUT, text=True)
        output.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            if f"127.0.0.1:{self.http_port}/" in self.output() and accepts(self.http_port):
                return self
            time.sleep(0.1)
        raise AssertionError(f"canhgac serve did not start: {self.output()}")

    def output(self) -> str:
        return (self.folder / f"serve-{self.starts}.out").read_text(encoding="utf-8")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.output()[-2000:]}")
            time.sleep(0.1)

    def wait_for_events(self, count: int, timeout: float = 20) -> None:
        """Until ``count`` events are stored, then a moment more so that a duplicate would show."""
        self.wait_for(lambda: count_rows(self.database) >= count, timeout, f"{count} events")
        time.sleep(0.5)

    def stored(self) -> Stored:
        return read_store(self.database)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
