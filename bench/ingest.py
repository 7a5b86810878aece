"""Ingest speed end to end, ``canhgac ingest`` of a combined log into SQLite with the full rule pack, beside
the floors of the same run (these machines are noisy; ratios travel), and per format.

End to end: the path exactly as ``canhgac ingest`` runs it (``Runtime.build`` + ``ingest_files``, batches of
5,000 lines: file → parse → detect → group → SQLite), each run in a fresh process and home: on every core the
process may use (parsing in a child process where that pays), on one core (the process pinned to one CPU),
and without rules. A cProfile of a one-core run gives µs/event per stage (profiled times are inflated; the
shares travel). Floors: the nginx line regex ``.match().groups()`` over the same lines (``floor_regex``)
and a bare ``executemany`` of the same events into the events table (``floor_sqlite``, rows/s).
Per format: parse + normalise (``LineDecoder.decode`` in batches of 5,000) against the format's own regex
(text) or ``orjson.loads`` (JSON).

    python bench/ingest.py [--lines 100000] [--format-lines 20000] [--profile-lines 30000]

Ends with ``RESULT eps_end_to_end=… eps_one_core=… floor_regex=… ratio=… floor_sqlite=… eps_no_rules=…
parse_eps=… <format>_eps=… <format>_ratio=…``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import sqlite3
import subprocess
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
from canhgac.storage.sqlite import event_keys
from canhgac.storage.sqlite.store import EVENT_WRITER_CACHE_KIB

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


STAGES = (  # (label, file suffix, function) of the cProfile entries whose cumulative time is the stage
    ("read file", "collectors/file.py", "read"),
    ("decode (parse, ids, ECS)", "collectors/lines.py", "decode"),
    ("put_events", "storage/sqlite/store.py", "put_events"),
    ("put_dead_letters", "storage/sqlite/store.py", "put_dead_letters"),
    ("detect (evidence, Sigma, indicators)", "detectors/engine.py", "detect"),
    ("alerts + incidents + notify", "canhgac/runtime.py", "raise_alerts"),
    ("correlation checkpoint", "detectors/engine.py", "checkpoint"),
    ("positions", "collectors/delivery.py", "_write_held"),
)


def end_to_end(log: Path, home: Path, *, detect: bool, profile: bool = False) -> dict[str, object]:
    """One ``canhgac ingest`` as the command runs it, in this (fresh) process."""
    os.environ["CANHGAC_HOME"] = str(home)
    from canhgac.runtime import Runtime, ingest_files

    settings = load_settings()
    if not detect:
        detection = settings.detection.model_copy(update={"builtin_rules": False, "rule_dirs": []})
        settings = settings.model_copy(update={"detection": detection})
    runtime = Runtime.build(settings)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    report = ingest_files(runtime, [log], "nginx", agency="binhdinh", system="dvc-binhdinh", batch_lines=BATCH)
    runtime.close()
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
    result: dict[str, object] = {
        "eps": report.decode.events / seconds, "events": report.decode.events, "stored": report.events_stored,
        "alerts": report.alerts, "incidents": report.incidents_created, "dead_letters": report.decode.dead_letters,
        "rules": runtime.rule_count}
    if profiler is not None:
        result["stages"] = _stages(pstats.Stats(profiler), report.decode.events)
    return result


def _stages(stats: pstats.Stats, events: int) -> dict[str, float]:
    cumulative: dict[str, float] = {}
    total = 0.0
    for (filename, _, function), (_, _, _, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, name in STAGES:
            if function == name and filename.endswith(suffix):
                cumulative[label] = cumulative.get(label, 0.0) + cum
        if function == "ingest_files" and filename.endswith("canhgac/runtime.py"):
            total = cum
    per_event = {label: cumulative[label] * 1e6 / events for label, _, _ in STAGES if label in cumulative}
    per_event["other"] = total * 1e6 / events - sum(per_event.values())
    per_event["total"] = total * 1e6 / events
    return per_event


def in_child(log: Path, home: Path, *, one_core: bool = False, detect: bool = True,
             profile: bool = False) -> dict[str, object]:
    """``end_to_end`` in a fresh interpreter, so runs do not share caches, heaps or a warmed store."""
    command = [sys.executable, __file__, "--child", str(log), str(home)]
    command += ["--one-core"] * one_core + ["--no-rules"] * (not detect) + ["--profile"] * profile
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite_floor(texts: list[str], home: Path) -> float:
    """Rows/s of a bare ``executemany`` of the same events, one transaction per batch, into the events table."""
    decoder = LineDecoder(get_parser("nginx"), Origin("/var/log/bench.log", "/var/log/bench.log", "binhdinh"))
    raw, offset = [], 0
    for text in texts:
        raw.append(RawLine(offset, text.encode()))
        offset += len(text) + 1
    events, _ = decoder.decode(raw)
    rows = [(e["event.id"], n, e["organization.id"], orjson.dumps(e).decode()) for n, e in enumerate(events)]
    home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(home / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size=-{EVENT_WRITER_CACHE_KIB}")  # as the store's event writer
    schema = (Path(__file__).resolve().parent.parent / "storage" / "sqlite" / "schema.sql").read_text()
    conn.executescript(schema)
    event_keys.migrate(conn)
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT OR IGNORE INTO events (id, ts, agency, doc) VALUES (?, ?, ?, ?)",
                         rows[start:start + BATCH])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return len(rows) / seconds


def child_main(args: argparse.Namespace) -> None:
    log, home = Path(args.child[0]), Path(args.child[1])
    if args.one_core:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(end_to_end(log, home, detect=not args.no_rules, profile=args.profile)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--format-lines", type=int, default=20_000)
    parser.add_argument("--profile-lines", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--one-core", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-rules", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    results: dict[str, tuple[str, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        make_log(log, args.lines)
        texts = log.read_text(encoding="utf-8").splitlines()
        print(f"{len(texts)} combined-log lines, {log.stat().st_size / 1e6:.1f} MB; "
              f"{args.format_lines} lines of each other format; {len(os.sched_getaffinity(0))} cores")
        profiled = Path(tmp) / "profiled.log"
        profiled.write_text("".join(t + "\n" for t in texts[:args.profile_lines]), encoding="utf-8")
        rng = random.Random(5)
        for fmt in FLOORS:
            lines = texts if fmt == "nginx" else _lines(fmt, args.format_lines, rng)
            floor_eps, parse_eps = measure(fmt, lines, args.runs)
            results[fmt] = (FLOORS[fmt][0], floor_eps, parse_eps)
        floor_sqlite = sqlite_floor(texts, Path(tmp) / "floor")
        full = in_child(log, Path(tmp) / "home")
        one = in_child(log, Path(tmp) / "home-one", one_core=True)
        bare = in_child(log, Path(tmp) / "home-nodetect", detect=False)
        stages = in_child(profiled, Path(tmp) / "home-profile", one_core=True, profile=True)["stages"]
        floor_regex = results["nginx"][1]  # measured last among the floors' neighbours: same run, same load

    print(f"{'format':<12} {'floor':>8} {'floor/s':>11} {'parse+normalise/s':>18} {'ratio':>7}")
    for fmt, (kind, floor_eps, parse_eps) in results.items():
        print(f"{fmt:<12} {kind:>8} {floor_eps:>11,.0f} {parse_eps:>18,.0f} {parse_eps / floor_eps:>7.1%}")
    print(f"\nper stage, µs/event (cProfile of a one-core run of {args.profile_lines} lines; inflated, shares travel):")
    for label, micros in stages.items():  # type: ignore[union-attr]
        print(f"  {label:<38} {micros:>7.1f}")
    eps, eps_one, eps_bare = float(full["eps"]), float(one["eps"]), float(bare["eps"])  # type: ignore[arg-type]
    print(f"\nfloors: regex {floor_regex:,.0f} lines/s, SQLite executemany {floor_sqlite:,.0f} rows/s")
    print(f"file → parse → detect → group → SQLite: {eps:>9,.0f} events/s ({eps / floor_regex:.1%} of the regex "
          f"floor); {full['stored']} stored, {full['alerts']} alerts, {full['incidents']} incidents, "
          f"{full['dead_letters']} dead letters, {full['rules']} rules")
    print(f"  the same on one core:               {eps_one:>9,.0f} events/s; {one['alerts']} alerts, "
          f"{one['incidents']} incidents")
    print(f"  file → parse → SQLite (no rules):   {eps_bare:>9,.0f} events/s")
    per_format = " ".join(f"{fmt}_eps={parse:.0f} {fmt}_ratio={parse / floor:.4f}"
                          for fmt, (_, floor, parse) in results.items())
    print(f"RESULT eps_end_to_end={eps:.0f} eps_one_core={eps_one:.0f} floor_regex={floor_regex:.0f} "
          f"ratio={eps / floor_regex:.4f} floor_sqlite={floor_sqlite:.0f} eps_no_rules={eps_bare:.0f} "
          f"parse_eps={results['nginx'][2]:.0f} {per_format}")


if __name__ == "__main__":
    main()
