"""Ingest speed, per format and end to end, against the bare floor of the same lines measured in the same run
(these machines are noisy; ratios travel).

Per format: parse + normalise (``LineDecoder.decode`` in batches of 5,000 lines: decode, parse, ids, ECS event)
in events/s, and the
floor: the format's own line regex ``.match().groups()`` for text formats, ``orjson.loads`` for JSON ones.
End to end: ``canhgac ingest`` of a combined log into SQLite, with detection (the headline) and without.

    python bench/ingest.py [--lines 200000] [--format-lines 50000]

Ends with ``RESULT ingest_eps=… ratio_to_regex=… parse_eps=… parse_ratio=… regex_eps=… <format>_eps=…
<format>_ratio=… … ingest_nodetect_eps=…``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.parsers.combined import LINE
from canhgac.collectors.parsers.fortigate import PAIR
from canhgac.collectors.parsers.syslog import BSD
from canhgac.collectors.raw import RawLine
from canhgac.core.config import load_settings
from canhgac.core.model import utcnow

from canhgac.simulator import Portal, TrafficSimulator


def make_log(path: Path, count: int) -> None:
    simulator = TrafficSimulator([Portal("dvc-binhdinh", path)], path.with_name("auth.log"), seed=11)
    start = utcnow() - timedelta(days=1)
    lines = []
    for n in range(count):
        at = start + timedelta(milliseconds=n * 40)
        if n % 500 == 0:
            lines += simulator.attack_lines(at)[1][:1] if simulator.random.random() < 0.7 else []
        lines.append(simulator.citizen_line(at))
    with path.open("w", encoding="utf-8") as out:
        out.writelines(line for line in lines[:count] if line.count('"') >= 6)


IIS_FIELDS = ("date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) "
              "sc-status sc-substatus sc-win32-status time-taken")
IIS_REGEX = re.compile(" ".join([r"(\S+)"] * 15))


def _lines(fmt: str, count: int, rng: random.Random) -> list[str]:
    out = []
    for n in range(count):
        second, minute, ip = n % 60, n // 60 % 60, f"100.{64 + n % 60}.{n // 60 % 250}.{n % 250 + 1}"
        if fmt == "iis":
            out.append(f"2026-11-22 08:{minute:02d}:{second:02d} 10.52.0.20 GET /DichVuCong/TraCuu.aspx "
                       f"tuKhoa=c%E1%BA%A5p+ph%C3%A9p&trang={n % 9} 443 - {ip} Mozilla/5.0+(Windows+NT+10.0;+Win64) "
                       f"https://dichvucong.binhdinh.gov.vn/ {rng.choice((200, 200, 302, 404))} 0 0 {n % 900}")
        elif fmt == "sshd":
            verdict = rng.choice(("Failed password for root", "Accepted publickey for deploy",
                                  "Failed password for invalid user admin"))
            out.append(f"Nov 22 15:{minute:02d}:{second:02d} dvc-web01 sshd[{1000 + n}]: {verdict} from 198.51.100."
                       f"{n % 250 + 1} port {40000 + n % 20000} ssh2")
        elif fmt == "fortigate":
            out.append(f'date=2026-11-22 time=15:{minute:02d}:{second:02d} devname="FGT-BDH-01" '
                       f'devid="FG100FTK20000001" tz="+0700" logid="0000000013" type="traffic" subtype="forward" '
                       f'level="notice" vd="root" srcip={ip} srcport={40000 + n % 20000} srcintf="wan1" '
                       f'dstip=10.52.0.10 dstport=443 dstintf="internal" sessionid={n} proto=6 '
                       f'action="{rng.choice(("accept", "deny", "close"))}" policyid=3 service="HTTPS" '
                       f'sentbyte={n % 9000} rcvdbyte={n % 7000} sentpkt=4 rcvdpkt=3')
        elif fmt == "onestop":
            out.append(orjson.dumps({
                "thoi_gian": f"2026-11-22T08:{minute:02d}:{second:02d}.{n % 1000:03d}+07:00",
                "he_thong": "motcua.binhdinh.gov.vn", "hanh_dong": rng.choice(("XEM_HO_SO", "DANG_NHAP", "IN_HO_SO")),
                "ket_qua": "THANH_CONG", "can_bo": {"ma": f"CB-{n % 400}", "tai_khoan": f"can.bo.{n % 400}",
                                                    "ho_ten": "Nguyễn Thị Lan"},
                "don_vi": {"ma": "000.11.31.H08", "ten": "UBND phường Trần Phú"},
                "ho_so": {"loai": "ho-tich", "ma": f"H08.31-261122-{n:04d}", "so_luong": 1},
                "dia_chi_ip": f"10.52.0.{n % 60 + 1}", "phien": f"s-{n % 999}"}).decode())
        elif fmt == "modsecurity":
            out.append(orjson.dumps({"transaction": {
                "client_ip": ip, "time_stamp": f"Sun Nov 22 15:{minute:02d}:{second:02d} 2026", "client_port": 40000,
                "host_ip": "10.52.0.10", "host_port": 443, "unique_id": f"1795334645{n}",
                "request": {"method": "GET", "http_version": 1.1, "uri": f"/tra-cuu?ma={n}%27%20or%201=1",
                            "headers": {"Host": "dichvucong.binhdinh.gov.vn", "User-Agent": "sqlmap/1.8"}},
                "response": {"http_code": 403},
                "messages": [{"message": "SQL Injection Attack Detected via libinjection",
                              "details": {"ruleId": "942100", "severity": "2", "ver": "OWASP_CRS/4.0.0",
                                          "tags": ["attack-sqli"]}}]}}).decode())
    return out


FLOORS: dict[str, tuple[str, Callable[[str], object]]] = {
    "nginx": ("regex", lambda t: LINE.match(t).groups()),  # type: ignore[union-attr]
    "iis": ("regex", lambda t: IIS_REGEX.match(t).groups()),  # type: ignore[union-attr]
    "sshd": ("regex", lambda t: BSD.match(t).groups()),  # type: ignore[union-attr]
    "fortigate": ("regex", PAIR.findall),
    "onestop": ("orjson", orjson.loads),
    "modsecurity": ("orjson", orjson.loads),
}


BATCH = 5000


def best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def measure(fmt: str, texts: list[str], runs: int) -> tuple[float, float]:
    """(floor lines/s, parse+normalise events/s) over the same lines."""
    _, floor = FLOORS[fmt]
    floor_s = best_of(runs, lambda: [floor(t) for t in texts])
    raw, offset = [], 0
    for text in texts:
        data = text.encode()
        raw.append(RawLine(offset, data))
        offset += len(data) + 1
    if fmt == "iis":
        raw.insert(0, RawLine(0, ("#Fields: " + IIS_FIELDS).encode()))
    origin = Origin("/var/log/bench.log", "/var/log/bench.log", "binhdinh", "dvc-binhdinh")
    decoders = []

    def decode() -> None:  # in batches, as the sources hand lines on
        decoder = LineDecoder(get_parser(fmt), origin)
        for start in range(0, len(raw), BATCH):
            decoder.decode(raw[start:start + BATCH])
        decoders.append(decoder)

    parse_s = best_of(runs, decode)
    assert decoders[-1].stats.dead_letters == 0, (fmt, decoders[-1].stats)
    return len(texts) / floor_s, len(texts) / parse_s


def end_to_end(log: Path, home: Path, *, detect: bool) -> tuple[float, object, int]:
    os.environ["CANHGAC_HOME"] = str(home)
    from canhgac.runtime import Runtime, ingest_files

    settings = load_settings()
    if not detect:
        detection = settings.detection.model_copy(update={"builtin_rules": False, "rule_dirs": []})
        settings = settings.model_copy(update={"detection": detection})
    runtime = Runtime.build(settings)
    report = ingest_files(runtime, [log], "nginx", agency="binhdinh", system="dvc-binhdinh")
    runtime.close()
    return report.decode.events / report.seconds, report, runtime.rule_count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--format-lines", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, tuple[str, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        make_log(log, args.lines)
        texts = log.read_text(encoding="utf-8").splitlines()
        print(f"{len(texts)} combined-log lines, {log.stat().st_size / 1e6:.1f} MB; "
              f"{args.format_lines} lines of each other format")
        rng = random.Random(5)
        for fmt in FLOORS:
            lines = texts if fmt == "nginx" else _lines(fmt, args.format_lines, rng)
            floor_eps, parse_eps = measure(fmt, lines, args.runs)
            results[fmt] = (FLOORS[fmt][0], floor_eps, parse_eps)
        ingest_eps, report, rules = end_to_end(log, Path(tmp) / "home", detect=True)
        bare_eps, _, _ = end_to_end(log, Path(tmp) / "home-nodetect", detect=False)

    print(f"{'format':<12} {'floor':>8} {'floor/s':>11} {'parse+normalise/s':>18} {'ratio':>7}")
    for fmt, (kind, floor_eps, parse_eps) in results.items():
        print(f"{fmt:<12} {kind:>8} {floor_eps:>11,.0f} {parse_eps:>18,.0f} {parse_eps / floor_eps:>7.1%}")
    regex_eps = results["nginx"][1]
    print(f"file → parse → detect → SQLite: {ingest_eps:>9,.0f} events/s ({ingest_eps / regex_eps:.1%} of the nginx "
          f"floor); {report.events_stored} stored, {report.alerts} alerts, {report.incidents_created} incidents, "  # type: ignore[attr-defined]
          f"{report.decode.dead_letters} dead letters, {rules} rules")  # type: ignore[attr-defined]
    print(f"file → parse → SQLite (no rules): {bare_eps:>7,.0f} events/s")
    per_format = " ".join(f"{fmt}_eps={parse:.0f} {fmt}_ratio={parse / floor:.4f}"
                          for fmt, (_, floor, parse) in results.items())
    print(f"RESULT ingest_eps={ingest_eps:.0f} ratio_to_regex={ingest_eps / regex_eps:.4f} "
          f"parse_eps={results['nginx'][2]:.0f} parse_ratio={results['nginx'][2] / regex_eps:.4f} "
          f"regex_eps={regex_eps:.0f} {per_format} ingest_nodetect_eps={bare_eps:.0f}")


if __name__ == "__main__":
    main()
