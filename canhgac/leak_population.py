"""Who works in the simulated month of one-stop and gateway activity: agencies, units and their dossier registers,
officials, API clients, the office calendar, and the two log line formats (collectors/mappings/README.md).

Addresses are private office networks (10.0.0.0/8); whatever comes from outside an office (a partner's system,
a thief's connection) uses the documentation ranges (RFC 5737), so no real network is named."""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from canhgac.core.timeutil import VIETNAM

RECEPTION, ASSESSOR, LEADER, ARCHIVIST = "tiếp nhận hồ sơ", "chuyên viên thẩm định", "lãnh đạo", "văn thư lưu trữ"
ROLES = (RECEPTION, ASSESSOR, LEADER, ARCHIVIST)
#: Public holidays on fixed solar dates, and Tết 2026 as announced; other lunar holidays are left out.
HOLIDAYS = {(1, 1), (4, 30), (5, 1), (9, 1), (9, 2)}
TET = {date(2026, 2, 14) + timedelta(days=n) for n in range(9)}

#: Procedure types and codes a unit's dossiers belong to.
PROCEDURES = {
    "ho-tich": ["1.001193", "1.000894", "1.001022"], "chung-thuc": ["2.000815", "2.000884"],
    "dat-dai": ["1.004227", "1.003003", "1.012790"], "xay-dung": ["1.009972", "1.009974"],
    "kinh-doanh": ["2.000720", "2.001612"], "tu-phap": ["1.001756", "2.000488"],
    "khcn": ["1.002530", "1.003542"], "lao-dong": ["1.000047", "2.000134"],
}
UNIT_PLANS = {  # agency kind → (code part, name, procedure types, intake weight)
    "ward": [(1, "Bộ phận Một cửa", ["ho-tich", "chung-thuc", "lao-dong"], 1.0),
             (2, "Phòng Kinh tế", ["dat-dai", "xay-dung", "kinh-doanh"], 0.6)],
    "province": [(11, "Sở Tư pháp", ["tu-phap", "ho-tich"], 1.0),
                 (12, "Sở Nông nghiệp và Môi trường", ["dat-dai"], 0.8), (13, "Sở Xây dựng", ["xay-dung"], 0.5),
                 (14, "Sở Tài chính", ["kinh-doanh"], 0.7)],
    "department": [(21, "Phòng Quản lý chuyên ngành", ["khcn"], 0.5), (22, "Văn phòng Sở", ["khcn"], 0.2)],
}
ROLE_MIX = {  # share of each role in a unit: those that receive dossiers, the others
    True: [(RECEPTION, 0.45), (ASSESSOR, 0.3), (LEADER, 0.1), (ARCHIVIST, 0.15)],
    False: [(ASSESSOR, 0.65), (LEADER, 0.15), (ARCHIVIST, 0.12), (RECEPTION, 0.08)],
}


@dataclass(frozen=True)
class AgencyPlan:
    id: str
    kind: str  # province | department | ward
    province: str  # the province part of unit codes
    number: int  # the agency part of unit codes
    host: str  # the one-stop system's host name
    place: str  # shown in unit names
    weight: int  # officials per 300
    saturday: bool  # reception open on Saturday mornings
    gateway: bool  # runs a provincial data-sharing gateway (LGSP)


AGENCIES = [
    AgencyPlan("gialai", "province", "H08", 0, "motcua.gialai.gov.vn", "tỉnh Gia Lai", 50, True, True),
    AgencyPlan("gialai-quynhon", "ward", "H08", 31, "motcua.gialai.gov.vn", "phường Quy Nhơn", 22, True, False),
    AgencyPlan("gialai-skhcn", "department", "H08", 20, "motcua.gialai.gov.vn", "Sở KH&CN Gia Lai", 20, False, False),
    AgencyPlan("daklak", "province", "H17", 0, "motcua.daklak.gov.vn", "tỉnh Đắk Lắk", 50, False, True),
    AgencyPlan("gialai-annhon", "ward", "H08", 33, "motcua.gialai.gov.vn", "phường An Nhơn", 22, False, False),
    AgencyPlan("ninhbinh", "province", "H38", 0, "motcua.ninhbinh.gov.vn", "tỉnh Ninh Bình", 50, True, True),
    AgencyPlan("gialai-quynhondong", "ward", "H08", 32, "motcua.gialai.gov.vn", "phường Quy Nhơn Đông", 22, True,
               False),
    AgencyPlan("daklak-skhcn", "department", "H17", 20, "motcua.daklak.gov.vn", "Sở KH&CN Đắk Lắk", 20, False, False),
    AgencyPlan("gialai-bongson", "ward", "H08", 34, "motcua.gialai.gov.vn", "phường Bồng Sơn", 22, False, False),
    AgencyPlan("gialai-tuyphuoc", "ward", "H08", 35, "motcua.gialai.gov.vn", "xã Tuy Phước", 22, True, False),
]

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
            "Dương", "Lý", "Trương", "Đinh"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Thanh", "Đức", "Hữu", "Quốc", "Thu", "Hoài", "Kim", "Xuân"]
GIVEN = ["Lan", "Bình", "Hùng", "Hương", "Tuấn", "Mai", "Dũng", "Hà", "Phương", "Sơn", "Trang", "Nam", "Linh",
         "Khoa", "Thảo", "Quân", "Yến", "Long", "Hạnh", "Tâm", "Vy", "An", "Nhơn", "Hiếu", "Nhung", "Thắng", "Oanh",
         "Phúc", "Loan", "Trí"]
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 "
    "Edg/{v}.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/{v}.0.0 "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
]
FOREIGN_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile "
    "Safari/537.36",
    "python-requests/2.32.3",
]


def ascii_name(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def poisson(r: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(r.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def is_workday(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS and day not in TET


def local_moment(day: date, hours: float) -> datetime:
    """The UTC instant of ``hours`` (fractional) after local midnight of ``day``."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
    return midnight + timedelta(seconds=round(hours * 3600, 3))


@dataclass
class Unit:
    agency: AgencyPlan
    code: str  # 000.11.00.H08
    name: str
    prefix: str  # of its dossier ids: H08.00.11
    types: list[str]
    intake: float  # new dossiers per working day
    net: str  # its office network, "10.61.3."
    receives: bool
    register: dict[date, list[str]] = field(default_factory=dict)  # day → procedure code of dossier n (1-based)

    def fill(self, first: date, last: date, r: random.Random) -> None:
        """Make up the dossiers received each day from ``first`` to ``last``: the procedure of each, in order."""
        codes = [code for kind in self.types for code in PROCEDURES[kind]]
        day = first
        while day <= last:
            factor = 1.3 if day.weekday() == 0 else 1.0
            count = poisson(r, self.intake * factor) if is_workday(day) else 0
            self.register[day] = [r.choice(codes) for _ in range(count)]
            day += timedelta(days=1)

    def dossiers(self, day: date) -> list[str]:
        return self.register.get(day, [])

    def dossier_id(self, day: date, number: int) -> str:
        return f"{self.prefix}-{day:%y%m%d}-{number:04d}"

    def kind_of(self, procedure: str) -> str:
        return next(kind for kind, codes in PROCEDURES.items() if procedure in codes)


@dataclass
class Official:
    account: str
    code: str
    full_name: str
    unit: Unit
    role: str
    ip: str
    agent: str
    volume: float  # personal pace against the role's
    procedures: list[str]  # the procedure codes they handle
    joined: date | None = None
    left: date | None = None  # last working day
    leave: set[date] = field(default_factory=set)
    away_days: set[date] = field(default_factory=set)  # days at a second, legitimate network
    away_ip: str = ""
    browser_update: tuple[date, str] | None = None  # from that day, a newer version of the same browser
    slot: tuple[int, int] = (0, 1)  # reception clerks: takes new dossiers number n where n % k == i

    @property
    def agency(self) -> str:
        return self.unit.agency.id

    def agent_on(self, day: date) -> str:
        if self.browser_update and day >= self.browser_update[0]:
            return self.browser_update[1]
        return self.agent


@dataclass(frozen=True)
class ApiSpec:
    name: str
    provider: str
    version: str
    method: str
    path: str
    bytes_per_record: int


APIS = {
    "dancu": ApiSpec("CSDLQG-DC/tra-cuu-cong-dan", "Bộ Công an", "v1", "POST", "/api/dancu/v1/tracuu", 2048),
    "xacthuc": ApiSpec("CSDLQG-DC/xac-thuc-cong-dan", "Bộ Công an", "v1", "POST", "/api/dancu/v1/xacthuc", 900),
    "dkdn": ApiSpec("CSDL-DKDN/tra-cuu-doanh-nghiep", "Bộ Tài chính", "v2", "GET", "/api/dkdn/v2/doanh-nghiep", 2500),
    "hotich": ApiSpec("CSDL-HT/tra-cuu-ho-tich", "Bộ Tư pháp", "v1", "GET", "/api/hotich/v1/tra-cuu", 1800),
    "lltp": ApiSpec("CSDL-LLTP/tra-cuu-ly-lich", "Bộ Tư pháp", "v1", "POST", "/api/lltp/v1/tra-cuu", 3100),
    "datdai": ApiSpec("CSDL-DD/tra-cuu-thua-dat", "Sở Nông nghiệp và Môi trường", "v1", "GET",
                      "/api/datdai/v1/thua-dat", 4200),
    "bhxh": ApiSpec("BHXH/tra-cuu-qua-trinh-dong", "Bảo hiểm xã hội Việt Nam", "v1", "POST",
                    "/api/bhxh/v1/qua-trinh", 1500),
    "dongbo": ApiSpec("DVCQG/dong-bo-ho-so", "Văn phòng Chính phủ", "v2", "POST", "/api/dvcqg/v2/dong-bo", 2600),
}
#: system, account, main API, other APIs, hours profile, calls an hour at its busiest, records per call (low, high)
CLIENT_PLANS = [
    ("motcua", "svc-motcua", "dancu", ["hotich", "datdai"], "office", 28.0, (1, 1)),
    ("dvc", "svc-dvc", "dkdn", ["dancu", "lltp"], "portal", 18.0, (1, 12)),
    ("hotich", "svc-hotich", "hotich", ["dancu"], "office", 9.0, (1, 4)),
    ("vilis", "svc-vilis", "datdai", ["dancu"], "office", 12.0, (1, 3)),
    ("khodulieu", "svc-etl", "dongbo", [], "batch", 4.0, (150, 700)),
    ("bhxh", "svc-bhxh", "bhxh", ["dancu"], "office", 10.0, (1, 2)),
    ("ekyc-nganhang", "svc-ekyc", "xacthuc", [], "portal", 22.0, (1, 1)),
    ("thue", "svc-thue", "dkdn", ["datdai"], "office", 8.0, (1, 20)),
    ("dongbo-dvcqg", "svc-sync", "dongbo", ["hotich"], "batch", 6.0, (20, 120)),
    ("lltp", "svc-lltp", "lltp", ["dancu"], "office", 6.0, (1, 2)),
    ("yte", "svc-yte", "bhxh", ["dancu"], "portal", 7.0, (1, 3)),
    ("giaoduc", "svc-giaoduc", "dancu", [], "office", 5.0, (1, 30)),
]


@dataclass
class Client:
    agency: str  # the gateway's agency
    system: str
    account: str
    unit: str
    ip: str
    main: ApiSpec
    others: list[ApiSpec]
    profile: str  # office | portal | batch
    peak: float
    records: tuple[int, int]

    def rate(self, moment: datetime) -> float:
        """Expected calls in the hour starting at ``moment`` (UTC)."""
        local = moment.astimezone(VIETNAM)
        hour, workday = local.hour, is_workday(local.date())
        if self.profile == "batch":
            return self.peak * (1.0 if hour < 6 or hour >= 20 else 0.6)
        if self.profile == "portal":  # citizens' portals: evenings and weekends too
            shape = 1.0 if 8 <= hour < 17 else 0.45 if 6 <= hour < 22 else 0.04
            return self.peak * shape * (1.0 if workday else 0.35)
        if not workday:
            return self.peak * 0.02
        shape = {7: 0.5, 8: 1.0, 9: 1.0, 10: 1.0, 11: 0.6, 12: 0.1, 13: 0.5, 14: 1.0, 15: 1.0, 16: 0.8, 17: 0.2}
        return self.peak * shape.get(hour, 0.01) * (1.25 if local.weekday() == 0 else 1.0)


class Log:
    """The lines of every file, kept in time order when written."""

    def __init__(self) -> None:
        self.lines: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
        self.serial = 0

    def add(self, agency: str, fmt: str, at: datetime, document: dict) -> None:  # type: ignore[type-arg]
        self.serial += 1
        stamp = round(at.timestamp() * 1000)
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        self.lines.setdefault((agency, fmt), []).append((stamp, self.serial, text))

    def onestop(self, official: Official, at: datetime, action: str, *, ids: list[str] | None = None,
                unit: Unit | None = None, procedure: str | None = None, count: int | None = None,
                outcome: str = "THANH_CONG", ip: str | None = None, agent: str | None = None,
                session: str = "", path: str | None = None, extra: dict | None = None) -> None:  # type: ignore[type-arg]
        local = at.astimezone(VIETNAM)
        doc: dict = {  # type: ignore[type-arg]
            "thoi_gian": local.isoformat(timespec="milliseconds"), "he_thong": official.unit.agency.host,
            "hanh_dong": action, "ket_qua": outcome,
            "can_bo": {"ma": official.code, "tai_khoan": official.account, "ho_ten": official.full_name,
                       "vai_tro": official.role},
            "don_vi": {"ma": official.unit.code, "ten": official.unit.name},
        }
        if ids:
            owner = unit or official.unit
            dossier: dict = {"ma": ids[0] if len(ids) == 1 and count is None else ids,  # type: ignore[type-arg]
                             "so_luong": count if count is not None else len(ids), "don_vi": owner.code}
            if procedure:
                dossier = {"loai": owner.kind_of(procedure), **dossier, "thu_tuc": procedure}
            doc["ho_so"] = dossier
        doc["dia_chi_ip"] = ip or official.ip
        doc["trinh_duyet"] = agent or official.agent_on(local.date())
        if path:
            doc["duong_dan"] = path
        if extra:
            doc.update(extra)
        doc["phien"] = session
        self.add(official.agency, "onestop", at, doc)

    def gateway(self, client: Client, at: datetime, api: ApiSpec, records: int, r: random.Random, *,
                query: str | None = None) -> None:
        pick = r.random()
        status, result = (504, "TIMEOUT") if pick < 0.006 else (500, "ERROR") if pick < 0.01 else (200, "SUCCESS")
        if status != 200:
            records = 0
        size = records * api.bytes_per_record + r.randint(180, 900)
        request: dict = {"method": api.method, "path": api.path}  # type: ignore[type-arg]
        if query:
            request["query"] = query
        latency = int(r.lognormvariate(math.log(150_000_000 + records * 40_000), 0.4))
        self.add(client.agency, "gateway", at, {
            "ts": round(at.timestamp() * 1000), "request_id": f"lgsp-{r.getrandbits(40):010x}",
            "consumer": {"system": client.system, "unit": client.unit, "ip": client.ip, "account": client.account},
            "api": {"name": api.name, "provider": api.provider, "version": api.version},
            "request": request, "response": {"status": status, "result": result, "records": records,
                                             "bytes": size}, "latency_ns": latency})


@dataclass
class Population:
    agencies: list[AgencyPlan]
    units: list[Unit]
    officials: list[Official]
    clients: list[Client]


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split along ``weights`` (largest remainders)."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in raw]
    for index in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[:total - sum(counts)]:
        counts[index] += 1
    return counts


def build_population(seed: int, officials: int, clients: int, days: list[date]) -> Population:
    """Agencies, units (with a dossier register from 45 days before ``days`` to their end), officials, clients."""
    r = random.Random(f"{seed}:population")
    agencies = AGENCIES[:min(len(AGENCIES), max(3, officials // 28))]
    units: list[Unit] = []
    people: list[Official] = []
    accounts: set[str] = set()
    codes = iter(r.sample(range(1000, 10000), officials))
    for agency, count in zip(agencies, _shares(officials, [a.weight for a in agencies]), strict=True):
        plans = UNIT_PLANS[agency.kind]
        for part, (code, name, types, weight) in zip(_shares(count, [p[3] for p in plans]), plans, strict=True):
            unit = Unit(agency, f"000.{code:02d}.{agency.number:02d}.{agency.province}", f"{name} {agency.place}"
                        if agency.kind == "ward" else name, f"{agency.province}.{agency.number:02d}.{code:02d}",
                        types, 3 + 4 * part * weight, f"10.{60 + AGENCIES.index(agency)}.{code}.",
                        receives=code in (1, 11, 12, 21))
            unit.fill(days[0] - timedelta(days=45), days[-1], r)
            units.append(unit)
            mix = ROLE_MIX[unit.receives]
            roles = [role for role, n in zip([m[0] for m in mix], _shares(part, [m[1] for m in mix]),
                                                     strict=True)
                     for _ in range(n)]
            for needed, least in ((LEADER, 3), (ARCHIVIST, 4)):  # small units still have one of each
                if part >= least and needed not in roles:
                    most = Counter(roles).most_common(1)[0][0]
                    roles[roles.index(most)] = needed
            hosts = iter(r.sample(range(10, 250), part))
            for role in roles:
                people.append(_official(r, unit, role, f"{unit.net}{next(hosts)}", f"CB-{next(codes)}", accounts,
                                        days))
    return Population(agencies, units, people, _clients(r, agencies, clients))


def _official(r: random.Random, unit: Unit, role: str, ip: str, code: str, accounts: set[str],
              days: list[date]) -> Official:
    full = f"{r.choice(SURNAMES)} {r.choice(MIDDLE)} {r.choice(GIVEN)}"
    base = ascii_name(full).replace(" ", ".")
    account, n = base, 1
    while account in accounts:
        n += 1
        account = f"{base}{n}"
    accounts.add(account)
    version = r.choice([129, 130, 131, 131, 131])
    template = r.choice(BROWSERS)
    codes = [c for kind in unit.types for c in PROCEDURES[kind]]
    handled = r.sample(codes, min(len(codes), r.randint(1, 3))) if role == ASSESSOR else codes
    person = Official(account, code, full, unit, role, ip, template.format(v=version), r.lognormvariate(0, 0.25),
                      handled)
    if r.random() < 0.03 and len(days) >= 10:
        person.joined = days[r.randint(len(days) // 6, len(days) // 2)]
    workdays = [d for d in days if is_workday(d)]
    for _ in range(r.choice([0, 0, 1, 1, 1, 2, 3])):
        first = r.randrange(len(workdays))
        person.leave.update(workdays[first:first + r.choice([1, 1, 1, 2, 3])])
    if r.random() < 0.06:
        person.away_ip = f"10.{unit.net.split('.')[1]}.250.{r.randint(10, 250)}"
        person.away_days = set(r.sample(workdays, min(len(workdays), r.randint(1, 2))))
    if r.random() < 0.15:
        person.browser_update = (r.choice(days), template.format(v=version + 1))
    return person


def _clients(r: random.Random, agencies: list[AgencyPlan], count: int) -> list[Client]:
    gateways = [a for a in agencies if a.gateway] or agencies[:1]
    made: list[Client] = []
    names: set[str] = set()
    for index in range(count):
        agency = gateways[index % len(gateways)]
        system, account, main, others, profile, peak, records = CLIENT_PLANS[(index // len(gateways))
                                                                           % len(CLIENT_PLANS)]
        name = f"{system}-{agency.id}"
        while name in names:
            name += "-2"
        names.add(name)
        partner = system in ("ekyc-nganhang", "bhxh", "yte")
        ip = f"198.51.100.{10 + index}" if partner else f"10.{60 + AGENCIES.index(agency)}.0.{10 + index}"
        unit = f"000.00.{40 + index:02d}.G{12 + index % 7:02d}" if partner else f"000.00.00.{agency.province}"
        made.append(Client(agency.id, name, account, unit, ip, APIS[main], [APIS[o] for o in others], profile,
                           peak * r.uniform(0.6, 1.4), records))
    return made
