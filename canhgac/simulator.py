"""Realistic traffic for the demo: citizens using portals, with attacks mixed in.

Citizens come from carrier-grade NAT space (100.64.0.0/10, as mobile users in Vietnam do); attackers
from the documentation ranges (RFC 5737), so no real network is ever named as an attacker.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from canhgac.core.model import utcnow
from canhgac.core.timeutil import VIETNAM

SEARCHES = ["đăng ký khai sinh", "cấp đổi giấy phép lái xe", "đăng ký hộ kinh doanh", "chứng thực bản sao",
            "cấp phiếu lý lịch tư pháp", "đăng ký thường trú", "cấp giấy chứng nhận quyền sử dụng đất",
            "trợ cấp thất nghiệp", "đăng ký kết hôn", "cấp giấy phép xây dựng"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile "
    "Safari/537.36 Zalo android/12100",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 "
    "Safari/605.1.15",
]
SQLI = ["' UNION SELECT username,password FROM nguoi_dung--", "1' OR '1'='1", "1; WAITFOR DELAY '0:0:5'--",
        "1' AND SLEEP(5)--", "' UNION SELECT table_name FROM information_schema.tables--"]
TRAVERSAL = ["../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd", "....//....//windows/win.ini"]
PROBES = ["/.env", "/.git/config", "/backup.zip", "/web.config", "/wp-admin/", "/phpmyadmin/", "/admin/login",
          "/db.sql", "/.aws/credentials", "/server-status"]
SCANNERS = ["Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:map_codes)", "sqlmap/1.8.11#stable (https://sqlmap.org)",
            "Mozilla/5.0 zgrab/0.x", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"]


@dataclass(frozen=True)
class Portal:
    system: str
    path: Path


def _clf_time(moment: datetime) -> str:
    local = moment.astimezone(VIETNAM)
    return local.strftime("%d/%b/%Y:%H:%M:%S +0700")


class TrafficSimulator:
    def __init__(self, portals: list[Portal], auth_log: Path, *, seed: int = 7, rate: float = 4.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.portals = portals
        self.auth_log = auth_log
        self.random = random.Random(seed)
        self.rate = rate  # citizen requests per second per portal
        self.clock = clock

    # one line -----------------------------------------------------------------------------------
    def citizen_ip(self) -> str:
        r = self.random
        return f"100.{r.randint(64, 127)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def attacker_ip(self) -> str:
        return self.random.choice(["203.0.113.", "198.51.100.", "192.0.2."]) + str(self.random.randint(2, 250))

    def access_line(self, at: datetime, ip: str, method: str, target: str, status: int, agent: str,
                    size: int | None = None, referrer: str = "-") -> str:
        size = size if size is not None else self.random.randint(300, 48_000)
        return f'{ip} - - [{_clf_time(at)}] "{method} {target} HTTP/1.1" {status} {size} "{referrer}" "{agent}"\n'

    def citizen_line(self, at: datetime) -> str:
        r = self.random
        pick = r.random()
        if pick < 0.3:
            target = f"/thu-tuc-hanh-chinh/tra-cuu?tu_khoa={quote(r.choice(SEARCHES))}&trang={r.randint(1, 5)}"
        elif pick < 0.45:
            target = f"/ho-so/tra-cuu?ma_ho_so=000.00.{r.randint(10, 99)}.H08-{at:%y%m%d}-{r.randint(1, 9999):04d}"
        elif pick < 0.55:
            target = f"/dich-vu-cong/nop-ho-so?ma_thu_tuc=1.00{r.randint(1000, 9999)}"
        elif pick < 0.62:
            return self.access_line(at, self.citizen_ip(), "POST", "/dang-nhap", r.choice([302, 302, 302, 401]),
                                    r.choice(AGENTS))
        elif pick < 0.9:
            target = r.choice(["/static/css/main.css", "/static/js/app.js", "/images/quoc-huy.png",
                               "/favicon.ico"])
        else:
            target = r.choice(["/", "/p/home/dvc-trang-chu.html", "/api/thong-ke/ho-so?nam=2026"])
        status = 404 if r.random() < 0.01 else 200
        return self.access_line(at, self.citizen_ip(), "GET", target, status, r.choice(AGENTS))

    # attacks --------------------------------------------------------------------------------------
    def attack_lines(self, at: datetime) -> tuple[str, list[str]]:
        """One attack burst: which kind, and its lines (access-log lines, or auth-log lines for SSH)."""
        r = self.random
        kind = r.choice(["sqli", "traversal", "scanner", "ssh"])
        ip = self.attacker_ip()
        lines: list[str] = []
        if kind == "sqli":
            for n in range(r.randint(2, 6)):
                payload = quote(r.choice(SQLI))
                lines.append(self.access_line(at + timedelta(milliseconds=300 * n), ip, "GET",
                                              f"/thu-tuc-hanh-chinh/tra-cuu?tu_khoa={payload}", 500, AGENTS[0]))
        elif kind == "traversal":
            for n in range(r.randint(1, 4)):
                lines.append(self.access_line(at + timedelta(milliseconds=200 * n), ip, "GET",
                                              f"/tai-lieu/tai-ve?tep={r.choice(TRAVERSAL)}", 400, AGENTS[3]))
        elif kind == "scanner":
            agent = r.choice(SCANNERS)
            for n, probe in enumerate(r.sample(PROBES, 6)):
                lines.append(self.access_line(at + timedelta(milliseconds=100 * n), ip, "GET", probe, 404, agent))
        else:
            local = at.astimezone(VIETNAM)
            stamp = f"{local:%b} {local.day:2d} {local:%H:%M:%S}"
            for n in range(r.randint(8, 20)):
                user = r.choice(["root", "admin", "oracle", "ubuntu", "quantri"])
                invalid = "" if user == "root" else "invalid user "
                lines.append(f"{stamp} dvc-web01 sshd[{2000 + n}]: Failed password for {invalid}{user} "
                             f"from {ip} port {r.randint(30000, 65000)} ssh2\n")
        return kind, lines

    def flood_lines(self, at: datetime, count: int) -> list[str]:
        """A request flood from many addresses: what the anomaly detector should notice."""
        return [self.access_line(at - timedelta(milliseconds=60_000 - i * 60_000 // count), self.attacker_ip(), "GET",
                                 "/thu-tuc-hanh-chinh/tra-cuu?tu_khoa=a", self.random.choice([200, 503, 503]),
                                 AGENTS[0]) for i in range(count)]

    # writing ----------------------------------------------------------------------------------------
    def backfill(self, minutes: int) -> int:
        """Write the last ``minutes`` of ordinary traffic (with a few attacks), oldest first."""
        now = self.clock()
        written = 0
        for portal in self.portals:
            lines = []
            moment = now - timedelta(minutes=minutes)
            while moment < now - timedelta(seconds=1):
                lines.append(self.citizen_line(moment))
                moment += timedelta(seconds=self.random.expovariate(self.rate))
            with portal.path.open("a", encoding="utf-8") as out:
                out.writelines(lines)
            written += len(lines)
        for _ in range(3):
            written += self._write_attack(now - timedelta(seconds=self.random.randint(5, 60)))
        return written

    def run(self, stop: threading.Event, *, attack_every: float = 6.0, flood_after: float = 75.0) -> None:
        """Write live traffic until ``stop`` is set: citizens continuously, an attack every few seconds,
        and one flood on the first portal ``flood_after`` seconds in."""
        started = self.clock()
        next_attack = started + timedelta(seconds=2)
        flooded = False
        while not stop.wait(1.0):
            now = self.clock()
            for portal in self.portals:
                count = max(0, round(self.random.gauss(self.rate, self.rate ** 0.5)))
                lines = [self.citizen_line(now - timedelta(milliseconds=self.random.randint(0, 999)))
                         for _ in range(count)]
                with portal.path.open("a", encoding="utf-8") as out:
                    out.writelines(sorted(lines, key=lambda line: line.split("[", 1)[1][:26]))
            if now >= next_attack:
                self._write_attack(now)
                next_attack = now + timedelta(seconds=self.random.uniform(0.5, 1.5) * attack_every)
            if not flooded and now - started >= timedelta(seconds=flood_after):
                with self.portals[0].path.open("a", encoding="utf-8") as out:
                    out.writelines(self.flood_lines(now, int(self.rate * 60 * 25)))
                flooded = True

    def _write_attack(self, at: datetime) -> int:
        kind, lines = self.attack_lines(at)
        path = self.auth_log if kind == "ssh" else self.random.choice(self.portals).path
        with path.open("a", encoding="utf-8") as out:
            out.writelines(lines)
        return len(lines)
