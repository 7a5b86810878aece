"""A syslog listener on 127.0.0.1 over a real store, and the lines relays wrap, for the syslog tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from canhgac.collectors.service import Collection
from canhgac.collectors.syslog import SyslogServer
from canhgac.core.config import Settings, parse_settings
from canhgac.core.directory import Directory
from canhgac.storage.base import Store

from tests.conftest import EXAMPLE_CONFIG

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
#: what a relay must not change (issue 14), and the dataset that says which parser read the line
COMPARED = ("@timestamp", "event.dataset", "event.module", "event.action", "event.outcome", "source.ip",
            "user.name", "url.path", "url.query", "url.original", "http.response.status_code", "host.hostname",
            "process.name", "process.pid")


def settings(listener: str = "") -> Settings:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text += ("\ncollection:\n  syslog:\n    - {name: test, host: 127.0.0.1, udp_port: 0, tcp_port: 0, "
             "default_agency: vpcp" + listener + "}\n")
    return parse_settings(text, "test.yaml")


def collection(config: Settings, store: Store) -> Collection:
    return Collection(config, Directory(config), store,
                      lambda events, letters: (store.put_events(events), store.put_dead_letters(letters)))


@contextmanager
def listening(config: Settings, store: Store) -> Iterator[tuple[SyslogServer, Collection]]:
    owner = collection(config, store)
    server = SyslogServer(config.collection.syslog[0], owner)
    server.bind()
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    thread.start()
    try:
        yield server, owner
    finally:
        stop.set()
        thread.join(5)


def wait(predicate: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)


def bsd(moment: datetime) -> str:
    local = moment.astimezone(LOCAL)
    return f"{local:%b} {local.day:>2} {local:%H:%M:%S}"


def clf(moment: datetime) -> str:
    return f"{moment.astimezone(LOCAL):%d/%b/%Y:%H:%M:%S %z}"


def iso(moment: datetime) -> str:
    return moment.astimezone(LOCAL).isoformat(timespec="microseconds")


def original_lines(now: datetime | None = None) -> tuple[list[str], list[str]]:
    """An nginx access log with SQL injections and an auth log with a brute force, written minutes ago."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=10)
    web = [f'203.0.113.{9 + n} - {"an" if n == 2 else "-"} [{clf(start + timedelta(seconds=n))}] '
           f'"GET /tra-cuu?ma_ho_so={n}%27%20OR%20%271%27=%271 HTTP/1.1" {(200, 404, 500)[n % 3]} {512 + n} "-" '
           f'"sqlmap/1.7"' for n in range(6)]
    web.append(f'2001:db8::5 - - [{clf(start)}] "POST /dang-nhap HTTP/2.0" 302 0 "https://dvc.gov.vn/" "Mozilla/5.0"')
    auth = [f"{bsd(start + timedelta(seconds=3 * n))} dvc-web01 sshd[{20201 + n}]: Failed password for "
            f"{'invalid user ' if n % 2 else ''}quantri{n} from 198.51.100.{7 + n} port {50022 + n} ssh2"
            for n in range(5)]
    auth.append(f"{bsd(start)} dvc-web01 sudo:   tran.binh : TTY=pts/0 ; PWD=/home/tran.binh ; USER=root ; "
                f"COMMAND=/usr/bin/cat /etc/shadow")
    auth.append(f"{bsd(start)} dvc-web01 sshd-session[20300]: Accepted publickey for an from 10.52.0.15 port 50110 "
                f"ssh2: ED25519 SHA256:abc")
    return web, auth


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
