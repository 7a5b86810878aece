"""A month of one-stop and data-sharing gateway activity with labelled data-leak scenarios in it.

``generate(out_dir, seed=7)`` writes ``<out>/<agency>/onestop.jsonl`` and ``gateway.jsonl`` (the shipped sample
formats), ``<out>/labels.json`` (the scenarios injected) and ``<out>/manifest.json`` (files, entities,
entity-days). The same seed and end give byte-identical files. The benign population follows office life
(working hours, Saturday mornings at some one-stop desks, Monday and month-end peaks, leave, overtime, newcomers,
weekly and monthly report exports, a second network now and then); the scenarios are data
(bench/leak_scenarios.yaml), injected by ``canhgac.leak_scenarios``."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from canhgac.core.timeutil import VIETNAM
from canhgac.leak_population import (
    ARCHIVIST,
    ASSESSOR,
    LEADER,
    RECEPTION,
    ApiSpec,
    Client,
    Log,
    Official,
    Unit,
    build_population,
    is_workday,
    local_moment,
    poisson,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "bench" / "leak_scenarios.yaml"
TASKS = {RECEPTION: 22.0, ASSESSOR: 13.0, LEADER: 12.0, ARCHIVIST: 10.0}  # a day's tasks at a usual pace
PATHS = {"XEM_HO_SO": "xem", "TAI_HO_SO": "tai-ve", "IN_HO_SO": "in", "CAP_NHAT_HO_SO": "cap-nhat"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def last_local_midnight(now: datetime | None = None) -> datetime:
    local = (now or datetime.now(UTC)).astimezone(VIETNAM)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def entity_key(entity: Official | Client) -> str:
    if isinstance(entity, Client):
        return f"{entity.agency}/{entity.system}/{entity.account}"
    return f"{entity.agency}/{entity.account}"


class Recorder:
    """Writes lines to the log and counts each entity's actions per local day (who was active when)."""

    def __init__(self) -> None:
        self.log = Log()
        self.days: dict[str, dict[date, Counter[str]]] = {}
        self.times: list[datetime] = []  # of the lines written since the last ``mark``
        self.sessions: dict[str, list[tuple[datetime, datetime, str, str]]] = {}  # entity → (start, end, id, ip)

    def at_work(self, official: Official, moment: datetime) -> dict[str, str]:
        """The session (and address) the official had open at ``moment``, else the nearest one."""
        spans = self.sessions.get(entity_key(official)) or [(moment, moment, "", official.ip)]
        _, _, session, ip = min(spans, key=lambda s: max(s[0] - moment, moment - s[1], timedelta(0)))
        return {"session": session, "ip": ip}

    def mark(self) -> None:
        self.times = []

    def _count(self, entity: Official | Client, at: datetime, what: str) -> None:
        day = at.astimezone(VIETNAM).date()
        self.days.setdefault(entity_key(entity), {}).setdefault(day, Counter())[what] += 1
        self.times.append(at)

    def onestop(self, official: Official, at: datetime, action: str, **values: Any) -> None:
        self.log.onestop(official, at, action, **values)
        self._count(official, at, action)

    def dossier(self, official: Official, at: datetime, action: str, unit: Unit, day: date, number: int, *,
                session: str, ip: str | None = None, agent: str | None = None) -> None:
        record = unit.dossier_id(day, number)
        self.onestop(official, at, action, ids=[record], unit=unit, procedure=unit.dossiers(day)[number - 1],
                     session=session, ip=ip, agent=agent, path=f"/ho-so/{record}/{PATHS[action]}")

    def call(self, client: Client, at: datetime, api: ApiSpec, records: int, r: random.Random,
             query: str | None = None) -> None:
        self.log.gateway(client, at, api, records, r, query=query or _query(api, r))
        self._count(client, at, "calls")


def _query(api: ApiSpec, r: random.Random) -> str | None:
    return f"ma={r.getrandbits(32):08x}" if api.method == "GET" else None


def pick_dossier(unit: Unit, day: date, r: random.Random, back: tuple[int, int],
                 procedures: list[str] | None = None) -> tuple[date, int] | None:
    """A dossier of ``unit`` received between ``back`` days before ``day``, of ``procedures`` when it can."""
    found = None
    for _ in range(8):
        when = day - timedelta(days=r.randint(*back))
        received = unit.dossiers(when)
        if received:
            number = r.randrange(len(received)) + 1
            found = (when, number)
            if procedures is None or received[number - 1] in procedures:
                return found
    return found


def session_id(r: random.Random) -> str:
    return f"s-{r.getrandbits(24):06x}"


def official_day(rec: Recorder, o: Official, day: date, r: random.Random) -> None:
    if day in o.leave or (o.joined and day < o.joined) or (o.left and day > o.left):
        return
    saturday = day.weekday() == 5 and ((o.unit.agency.saturday and o.role == RECEPTION and o.unit.receives)
                                       or (o.role == ASSESSOR and r.random() < 0.04))
    if not is_workday(day) and not saturday:
        return
    factor = (1.25 if day.weekday() == 0 else 0.9 if day.weekday() == 4 else 1.0) * (1.2 if day.day >= 27 else 1.0)
    if saturday:
        sessions = [(7.5 + abs(r.gauss(0, 0.08)), 11.0 + r.uniform(0, 0.4))]
        factor = 0.55
    else:
        evening = 17.0 + r.uniform(0.8, 2.5) if r.random() < 0.04 else 17.0 - abs(r.gauss(0, 0.12))
        sessions = [(7.5 + abs(r.gauss(0.05, 0.08)), 11.5 - abs(r.gauss(0, 0.1))),
                    (13.5 + abs(r.gauss(0.05, 0.08)), evening)]
    hours = sum(end - begin for begin, end in sessions)
    tasks = poisson(r, TASKS[o.role] * o.volume * factor)
    ip = o.away_ip if day in o.away_days else o.ip
    index, clerks = o.slot
    fresh = iter([n for n in range(1, len(o.unit.dossiers(day)) + 1) if n % clerks == index]
                 if o.role == RECEPTION and o.unit.receives else [])
    for begin, end in sessions:
        session = session_id(r)
        start = local_moment(day, begin)
        if r.random() < 0.02:
            rec.onestop(o, start - timedelta(seconds=r.uniform(10, 40)), "DANG_NHAP", outcome="THAT_BAI", ip=ip,
                        session="", path="/dang-nhap")
        rec.onestop(o, start, "DANG_NHAP", ip=ip, session=session, path="/dang-nhap")
        rec.sessions.setdefault(entity_key(o), []).append((start, local_moment(day, end), session, ip))
        for moment in sorted(r.uniform(begin + 0.05, end - 0.1) for _ in range(round(tasks * (end - begin) / hours))):
            _task(rec, o, day, local_moment(day, moment), r, session, ip, fresh)
        if o.role == ARCHIVIST and end > 16:
            _report(rec, o, day, r, session, ip)
        if r.random() < 0.6:
            rec.onestop(o, local_moment(day, end), "DANG_XUAT", ip=ip, session=session, path="/dang-xuat")


def _task(rec: Recorder, o: Official, day: date, at: datetime, r: random.Random, session: str, ip: str,
          fresh: Any) -> None:
    unit, steps = o.unit, []
    number = next(fresh, None)
    if number is not None:  # a new dossier received at the desk: entered, checked, receipt printed
        picked: tuple[date, int] | None = (day, number)
        steps = ["CAP_NHAT_HO_SO", "XEM_HO_SO"] + (["IN_HO_SO"] if r.random() < 0.7 else [])
    elif o.role == RECEPTION:  # a result handed back
        picked = pick_dossier(unit, day, r, (3, 15))
        steps = ["XEM_HO_SO"] + (["IN_HO_SO"] if r.random() < 0.5 else [])
    elif o.role == ASSESSOR:
        picked = pick_dossier(unit, day, r, (1, 15), o.procedures)
        steps = (["XEM_HO_SO"] * r.randint(1, 3) + ["TAI_HO_SO"] * r.choice([0, 1, 1, 2])
                 + (["CAP_NHAT_HO_SO"] if r.random() < 0.8 else []) + (["IN_HO_SO"] if r.random() < 0.08 else []))
    elif o.role == LEADER:
        others = [u for u in _units_of(unit) if u is not unit]
        if others and r.random() < 0.04:  # a leader looks at a dossier of a sister unit now and then
            unit = r.choice(others)
        picked = pick_dossier(unit, day, r, (0, 5))
        steps = ["XEM_HO_SO"] * r.randint(1, 2) + (["CAP_NHAT_HO_SO"] if r.random() < 0.7 else [])
    else:
        picked = pick_dossier(unit, day, r, (5, 40))
        steps = (["XEM_HO_SO"] + (["IN_HO_SO"] if r.random() < 0.35 else [])
                 + (["TAI_HO_SO"] if r.random() < 0.2 else []))
    if picked is None:
        return
    for action in steps:
        rec.dossier(o, at, action, unit, picked[0], picked[1], session=session, ip=ip)
        at += timedelta(seconds=r.uniform(15, 240))


_SISTERS: dict[int, list[Unit]] = {}


def _units_of(unit: Unit) -> list[Unit]:
    return _SISTERS.get(id(unit.agency), [unit])


def _report(rec: Recorder, o: Official, day: date, r: random.Random, session: str, ip: str) -> None:
    """The records office's reports: every Friday, and a bigger one on the month's last working day."""
    month_end = is_workday(day) and not any(is_workday(day + timedelta(days=n)) for n in range(1, 32 - day.day)
                                            if (day + timedelta(days=n)).month == day.month)
    for wanted, size, reason in ((day.weekday() == 4, (80, 400), "báo cáo tuần"),
                                 (month_end, (300, 1500), "báo cáo tháng")):
        if wanted:
            at = local_moment(day, r.uniform(14.5, 16.3))
            ids = recent_ids(o.unit, day, 30)
            rec.onestop(o, at, "XUAT_DU_LIEU", ids=r.sample(ids, min(20, len(ids))) or None,
                        count=r.randint(*size), session=session, ip=ip,
                        path=f"/bao-cao/xuat?ky={quote(reason)}", extra={"dinh_dang": "xlsx", "ly_do": reason})


def recent_ids(unit: Unit, day: date, back: int) -> list[str]:
    return [unit.dossier_id(day - timedelta(days=n), k + 1) for n in range(1, back + 1)
            for k in range(len(unit.dossiers(day - timedelta(days=n))))]


def client_month(rec: Recorder, c: Client, start: datetime, end: datetime, r: random.Random) -> None:
    hour, noise = start, 1.0
    while hour < end:
        if hour.astimezone(VIETNAM).hour == 0:
            noise = max(0.5, r.gauss(1.0, 0.12))
        for _ in range(poisson(r, c.rate(hour) * noise)):
            api = c.main if not c.others or r.random() < 0.85 else r.choice(c.others)
            rec.call(c, hour + timedelta(seconds=r.uniform(0, 3599.9)), api, usual_records(c, r), r)
        hour += timedelta(hours=1)


def usual_records(c: Client, r: random.Random) -> int:
    low, high = c.records
    return low + int((high - low) * r.random() ** 2)


@dataclass
class Manifest:
    out_dir: Path
    data: dict[str, Any]
    labels: list[dict[str, Any]]

    @property
    def files(self) -> list[dict[str, Any]]:
        return self.data["files"]


def generate(out_dir: Path | str, *, seed: int, days: int = 30, end: datetime | None = None, officials: int = 300,
             clients: int = 40, scenarios: Path | None = None) -> Manifest:
    """Write the month (``days`` local days ending at ``end``, default the last local midnight) and its labels."""
    from canhgac.leak_scenarios import inject, load_spec, plan

    if days < 3 or officials < 1 or clients < 0:
        raise ValueError("days must be at least 3 and officials at least 1")
    out = Path(out_dir)
    end_at = (end or last_local_midnight()).astimezone(UTC)
    last = (end_at - timedelta(microseconds=1)).astimezone(VIETNAM).date()
    calendar = [last - timedelta(days=n) for n in reversed(range(days))]
    start_at = local_moment(calendar[0], 0).astimezone(UTC)
    pop = build_population(seed, officials, clients, calendar)
    _SISTERS.clear()
    for unit in pop.units:
        _SISTERS.setdefault(id(unit.agency), []).append(unit)
        clerks = [o for o in pop.officials if o.unit is unit and o.role == RECEPTION]
        for index, clerk in enumerate(clerks):
            clerk.slot = (index, len(clerks))
    planned = plan(load_spec(scenarios or SCENARIOS), pop, calendar, random.Random(f"{seed}:scenarios"))
    rec = Recorder()
    for official in pop.officials:
        r = random.Random(f"{seed}:{official.account}")
        for day in calendar:
            official_day(rec, official, day, r)
    for client in pop.clients:
        client_month(rec, client, start_at, end_at, random.Random(f"{seed}:{client.system}"))
    labels = [inject(rec, item, pop, random.Random(f"{seed}:{item.id}")) for item in planned]
    files, total = _write(out, rec.log, [a.id for a in pop.agencies], end_at)
    entities = _entities(pop, rec)
    scenario_days = {(entity_key(item.entity), d) for item, label in zip(planned, labels, strict=True)
                     for d in _label_days(label)}
    data = {"seed": seed, "start": iso(start_at), "end": iso(end_at), "days": days,
            "agencies": [a.id for a in pop.agencies], "files": files, "lines": total, "scenarios": len(labels),
            "entity_days": sum(e["days"] for e in entities),
            "benign_entity_days": sum(1 for key, per_day in rec.days.items() for d in per_day
                                      if (key, d) not in scenario_days),
            "entities": entities}
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Manifest(out, data, labels)


def _label_days(label: dict[str, Any]) -> list[date]:
    first = datetime.fromisoformat(label["start"]).astimezone(VIETNAM).date()
    last = datetime.fromisoformat(label["end"]).astimezone(VIETNAM).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _write(out: Path, log: Log, agencies: list[str], end: datetime) -> tuple[list[dict[str, Any]], int]:
    files, total, limit = [], 0, round(end.timestamp() * 1000)
    for (agency, fmt), rows in sorted(log.lines.items(), key=lambda kv: (agencies.index(kv[0][0]), kv[0][1])):
        rows.sort()
        kept = [text for stamp, _, text in rows if stamp < limit]
        (out / agency).mkdir(parents=True, exist_ok=True)
        (out / agency / f"{fmt}.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
        files.append({"agency": agency, "format": fmt, "path": f"{agency}/{fmt}.jsonl", "lines": len(kept)})
        total += len(kept)
    return files, total


def _entities(pop: Any, rec: Recorder) -> list[dict[str, Any]]:
    made = []
    for o in pop.officials:
        made.append({"kind": "official", "id": o.account, "agency": o.agency, "name": o.full_name,
                     "unit": o.unit.code, "unit_name": o.unit.name, "role": o.role,
                     "joined": o.joined.isoformat() if o.joined else None,
                     "left": o.left.isoformat() if o.left else None, "days": len(rec.days.get(entity_key(o), {}))})
    for c in pop.clients:
        made.append({"kind": "client", "id": c.account, "system": c.system, "agency": c.agency, "unit": c.unit,
                     "api": c.main.name, "profile": c.profile, "days": len(rec.days.get(entity_key(c), {}))})
    return made
