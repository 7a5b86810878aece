"""The labelled data-leak scenarios of the simulated month: who and when (from the seed), then their lines.

The kinds and sizes are data (bench/leak_scenarios.yaml). Each scenario takes an entity of its own that has
worked since the start (no newcomer), after the warm-up, and is labelled with the times of its first and last
line."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from canhgac.core.timeutil import VIETNAM
from canhgac.leak_population import FOREIGN_AGENTS, Client, Official, Population, Unit, is_workday, local_moment
from canhgac.leak_simulator import Recorder, iso, recent_ids, session_id, usual_records

KINDS = ("burst_export", "slow_exfiltration", "enumeration", "outside_unit", "stolen_account_night", "api_scraping",
         "mass_printing")


@dataclass
class Planned:
    id: str
    kind: str
    spec: dict[str, Any]
    entity: Official | Client
    days: list[date] = field(default_factory=list)


def load_spec(path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for item in spec.get("scenarios", []):
        if item.get("kind") not in KINDS:
            raise ValueError(f"{path}: unknown scenario kind {item.get('kind')!r} (known: {', '.join(KINDS)})")
    return spec


def plan(spec: dict[str, Any], pop: Population, calendar: list[date], r: random.Random) -> list[Planned]:
    warm = min(int(spec.get("warmup_days", 12)), int(len(calendar) * 0.4))
    window = calendar[warm:-1]  # the last day stays free: a night scenario ends on the next one
    used: set[int] = set()
    made = []
    for number, item in enumerate(spec.get("scenarios", []), 1):
        entity = _entity(item, pop, used, r)
        if entity is None:
            continue
        used.add(id(entity))
        span = min(int(item.get("days", 1)), max(1, len([d for d in window if is_workday(d)]) - 1))
        workdays = [d for d in window if is_workday(d)]
        if item["kind"] == "stolen_account_night" and not item.get("weekday", True):
            free = [d for d in window if d.weekday() == 6] or [d for d in window if not is_workday(d)] or window
            days = [r.choice(free)]
        else:
            first = r.randrange(max(1, len(workdays) - span + 1))
            days = workdays[first:first + span]
        if isinstance(entity, Official):
            entity.leave -= set(days)
            entity.away_days -= set(days)
            if item["kind"] == "mass_printing":
                entity.left = days[-1]
        made.append(Planned(f"S{number:02d}", item["kind"], item, entity, days))
    return made


def _entity(item: dict[str, Any], pop: Population, used: set[int], r: random.Random) -> Official | Client | None:
    if item["kind"] == "api_scraping":
        free = [c for c in pop.clients if id(c) not in used]
        pools = [[c for c in free if c.profile == item.get("profile")], [c for c in free if c.profile != "batch"], free]
    else:
        free = [o for o in pop.officials if id(o) not in used and o.joined is None and o.left is None]
        kind = [o for o in free if o.unit.agency.kind == item.get("agency_kind", o.unit.agency.kind)]
        pools = [[o for o in kind if o.role == item.get("role", o.role)], kind, free]
    for pool in pools:
        if pool:
            return r.choice(pool)  # type: ignore[return-value]
    return None


def inject(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> dict[str, Any]:
    rec.mark()
    vi, en = INJECT[item.kind](rec, item, pop, r)
    entity = item.entity
    if isinstance(entity, Client):
        who = {"kind": "client", "id": entity.account, "system": entity.system, "name": None}
    else:
        who = {"kind": "official", "id": entity.account, "name": entity.full_name, "unit": entity.unit.code,
               "role": entity.role}
    size = {k: v for k, v in item.spec.items() if k not in ("kind", "agency_kind", "role", "profile")}
    return {"id": item.id, "kind": item.kind, "agency": entity.agency, "entity": who,
            "start": iso(min(rec.times)), "end": iso(max(rec.times)), "lines": len(rec.times),
            "description": vi, "description_en": en, "size": size}


def _work_moment(day: date, r: random.Random) -> datetime:
    hours = r.uniform(8.0, 11.3) if r.random() < 0.55 else r.uniform(13.7, 16.8)
    return local_moment(day, hours)


def _burst_export(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, day, total, count = item.entity, item.days[0], int(item.spec["records"]), int(item.spec.get("exports", 5))
    assert isinstance(o, Official)
    hour = r.choice([9.0, 10.0, 14.0, 15.0]) + r.uniform(0, 0.2)
    cuts = sorted(r.sample(range(1, total), count - 1)) if count > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    ids = recent_ids(o.unit, day, 45)
    for moment, size in zip(sorted(r.uniform(hour, hour + 0.85) for _ in sizes), sizes, strict=True):
        at = local_moment(day, moment)
        rec.onestop(o, at, "XUAT_DU_LIEU", ids=r.sample(ids, min(size, 100, len(ids))), count=size,
                    path="/bao-cao/xuat?loai=ho-so", extra={"dinh_dang": "xlsx"}, **rec.at_work(o, at))
    return (f"Cán bộ {o.account} xuất {total} hồ sơ trong một giờ ({count} lần xuất)",
            f"Official {o.account} exports {total} dossiers within one hour ({count} exports)")


def _slow_exfiltration(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, factor = item.entity, float(item.spec["factor"])
    assert isinstance(o, Official)
    before = [c["TAI_HO_SO"] for d, c in rec.days.get(f"{o.agency}/{o.account}", {}).items() if d < item.days[0]]
    usual = sum(before) / len(before) if before else 6.0
    extra = max(3, round((factor - 1) * usual))
    for day in item.days:
        ids = recent_ids(o.unit, day, 60)
        for moment in sorted(_work_moment(day, r) for _ in range(extra)):
            record = r.choice(ids)
            rec.onestop(o, moment, "TAI_HO_SO", ids=[record], path=f"/ho-so/{record}/tai-ve", **rec.at_work(o, moment))
    return (f"Cán bộ {o.account} tải thêm {extra} hồ sơ mỗi ngày trong {len(item.days)} ngày (khoảng {factor:g} lần "
            f"mức thường {usual:.1f})",
            f"Official {o.account} downloads {extra} more dossiers a day for {len(item.days)} days (about "
            f"{factor:g} times the usual {usual:.1f})")


def _enumeration(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, day, total, minutes = item.entity, item.days[0], int(item.spec["records"]), float(item.spec["minutes"])
    assert isinstance(o, Official)
    walk: list[tuple[date, int]] = []
    when = day - timedelta(days=r.randint(10, 30))
    while len(walk) < total and when < day:
        walk += [(when, n + 1) for n in range(len(o.unit.dossiers(when)))]
        when += timedelta(days=1)
    walk = walk[:total]
    start = local_moment(day, r.choice([9.2, 10.1, 14.3, 15.0]))
    for index, (received, number) in enumerate(walk):
        moment = start + timedelta(minutes=minutes * index / len(walk), seconds=r.uniform(0, 5))
        rec.dossier(o, moment, "XEM_HO_SO", o.unit, received, number, **rec.at_work(o, moment))
    return (f"Cán bộ {o.account} mở lần lượt {len(walk)} hồ sơ mã liên tiếp trong {minutes:g} phút",
            f"Official {o.account} opens {len(walk)} dossiers with consecutive ids within {minutes:g} minutes")


def _outside_unit(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, total = item.entity, int(item.spec["records"])
    assert isinstance(o, Official)
    same = [u for u in pop.units if u.agency is o.unit.agency and u is not o.unit]
    other = [u for u in pop.units if u.agency is not o.unit.agency and u.agency.province == o.unit.agency.province]
    pools = [same, other] if item.spec.get("target") == "same_agency" else [other, same]
    target: Unit = r.choice(next((p for p in pools if p), [u for u in pop.units if u is not o.unit] or [o.unit]))
    per_day = [total // len(item.days) + (1 if n < total % len(item.days) else 0) for n in range(len(item.days))]
    for day, count in zip(item.days, per_day, strict=True):
        received = [(day - timedelta(days=n), k + 1) for n in range(1, 31)
                    for k in range(len(target.dossiers(day - timedelta(days=n))))]
        for moment, (when, number) in zip(sorted(_work_moment(day, r) for _ in range(count)),
                                          r.sample(received, min(count, len(received))), strict=False):
            rec.dossier(o, moment, "XEM_HO_SO", target, when, number, **rec.at_work(o, moment))
            if r.random() < 0.5:
                rec.dossier(o, moment + timedelta(seconds=r.uniform(20, 90)), "TAI_HO_SO", target, when, number,
                            **rec.at_work(o, moment))
    return (f"Cán bộ {o.account} ({o.unit.name}) xem {total} hồ sơ của {target.name} ({target.code})",
            f"Official {o.account} ({o.unit.code}) reads {total} dossiers of another unit, {target.code}")


def _stolen_account_night(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, total, minutes = item.entity, int(item.spec["records"]), float(item.spec["minutes"])
    assert isinstance(o, Official)
    hour = float(item.spec.get("hour", 1))
    night = item.days[0] + timedelta(days=1) if hour < 12 and item.spec.get("weekday", True) else item.days[0]
    start = local_moment(night, hour + r.uniform(0, 0.4))
    ip, agent, session = f"203.0.113.{r.randint(20, 240)}", r.choice(FOREIGN_AGENTS[:2]), session_id(r)
    for n in range(r.randint(1, 2)):
        rec.onestop(o, start - timedelta(seconds=90 - 30 * n), "DANG_NHAP", outcome="THAT_BAI", ip=ip, agent=agent,
                    session="", path="/dang-nhap")
    rec.onestop(o, start, "DANG_NHAP", ip=ip, agent=agent, session=session, path="/dang-nhap")
    received = [(night - timedelta(days=n), k + 1) for n in range(1, 61)
                for k in range(len(o.unit.dossiers(night - timedelta(days=n))))]
    for index, (when, number) in enumerate(r.sample(received, min(total, len(received)))):
        moment = start + timedelta(minutes=1 + (minutes - 2) * index / total, seconds=r.uniform(0, 10))
        rec.dossier(o, moment, "XEM_HO_SO", o.unit, when, number, session=session, ip=ip, agent=agent)
        if r.random() < 0.6:
            rec.dossier(o, moment + timedelta(seconds=r.uniform(3, 20)), "TAI_HO_SO", o.unit, when, number,
                        session=session, ip=ip, agent=agent)
    local = start.astimezone(VIETNAM)
    return (f"Tài khoản {o.account} đăng nhập lúc {local:%H:%M} từ mạng lạ {ip} và trình duyệt lạ, xem và tải "
            f"{total} hồ sơ",
            f"Account {o.account} signs in at {local:%H:%M} from an unknown network {ip} and browser, reads and "
            f"downloads {total} dossiers")


def _api_scraping(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    c, factor, hours = item.entity, float(item.spec["factor"]), int(item.spec["hours"])
    assert isinstance(c, Client)
    start, page, calls = local_moment(item.days[0], float(item.spec.get("start_hour", 8))), 1, 0
    for step in range(hours):
        hour = start + timedelta(hours=step)
        usual = max(c.rate(hour), c.peak * 0.5)
        for moment in sorted(hour + timedelta(seconds=r.uniform(0, 3599)) for _ in range(round((factor - 1) * usual))):
            rec.call(c, moment, c.main, max(c.records[1], usual_records(c, r)), r, query=f"trang={page}&kich_thuoc=50")
            page += 1
            calls += 1
    return (f"Hệ thống {c.system} (tài khoản {c.account}) gọi {c.main.name} thêm {calls} lượt trong {hours} giờ, "
            f"khoảng {factor:g} lần mức thường",
            f"System {c.system} (account {c.account}) calls {c.main.name} {calls} more times over {hours} hours, "
            f"about {factor:g} times its usual rate")


def _mass_printing(rec: Recorder, item: Planned, pop: Population, r: random.Random) -> tuple[str, str]:
    o, per_day = item.entity, int(item.spec["prints_per_day"])
    assert isinstance(o, Official)
    for day in item.days:
        received = [(day - timedelta(days=n), k + 1) for n in range(1, 90)
                    for k in range(len(o.unit.dossiers(day - timedelta(days=n))))]
        for moment, (when, number) in zip(sorted(_work_moment(day, r) for _ in range(per_day)),
                                          r.sample(received, min(per_day, len(received))), strict=False):
            rec.dossier(o, moment, "IN_HO_SO", o.unit, when, number, **rec.at_work(o, moment))
    return (f"Cán bộ {o.account} in {per_day} hồ sơ mỗi ngày trong {len(item.days)} ngày rồi nghỉ việc",
            f"Official {o.account} prints {per_day} dossiers a day for {len(item.days)} days, then leaves")


INJECT = {"burst_export": _burst_export, "slow_exfiltration": _slow_exfiltration, "enumeration": _enumeration,
          "outside_unit": _outside_unit, "stolen_account_night": _stolen_account_night,
          "api_scraping": _api_scraping, "mass_printing": _mass_printing}
