"""Store contract additions for incidents, alerts by id, records and free-text event search — on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from canhgac.core.model import (
    Alert,
    ApiKeyRecord,
    Incident,
    IncidentState,
    Severity,
    Suppression,
    event_id,
    to_utc_iso,
)
from canhgac.storage.base import EventQuery, IncidentCursor, IncidentQuery, Store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def incident(n: int, *, agency: str = "binhdinh", severity: Severity = Severity.high, minutes: float = 0,
             state: IncidentState = IncidentState.new, system: str | None = None, assignee: str | None = None,
             created_minutes: float = 0) -> Incident:
    seen = T0 + timedelta(minutes=minutes)
    return Incident(id=f"INC-{n:03d}", agency=agency, title=f"sự cố {n}", severity=severity, state=state,
                    fingerprint=f"r|{agency}|{n}", rule_id="r-sqli" if n % 2 else "r-scan", system=system,
                    assignee=assignee, first_seen=seen - timedelta(minutes=n), last_seen=seen,
                    created=T0 + timedelta(minutes=created_minutes), updated=T0)


@pytest.fixture
def many(store: Store) -> Store:
    specs = [
        (1, "binhdinh", Severity.low, 5, IncidentState.new, "dvc-binhdinh", "lan", 9),
        (2, "binhdinh", Severity.critical, 3, IncidentState.acknowledged, "motcua-binhdinh", None, 1),
        (3, "quynhon", Severity.medium, 8, IncidentState.closed, None, "lan", 5),
        (4, "phuyen", Severity.high, 1, IncidentState.new, "dvc-phuyen", "minh", 7),
        (5, "binhdinh", Severity.high, 3, IncidentState.contained, "dvc-binhdinh", None, 3),
        (6, "quynhon", Severity.critical, 12, IncidentState.investigating, None, "minh", 2),
    ]
    for n, agency, severity, minutes, state, system, assignee, created in specs:
        store.create_incident(incident(n, agency=agency, severity=severity, minutes=minutes, state=state,
                                       system=system, assignee=assignee, created_minutes=created))
    store.refresh()
    return store


def ids(found: list[Incident]) -> list[str]:
    return [i.id for i in found]


def test_filters_combine_with_scope(many: Store) -> None:
    bd = frozenset({"binhdinh", "quynhon"})
    assert ids(many.search_incidents(IncidentQuery(agencies=bd, severities=frozenset({Severity.critical})))) == \
        ["INC-006", "INC-002"]
    assert ids(many.search_incidents(IncidentQuery(systems=frozenset({"dvc-binhdinh"})))) == ["INC-001", "INC-005"]
    assert ids(many.search_incidents(IncidentQuery(assignee="minh"))) == ["INC-006", "INC-004"]
    assert ids(many.search_incidents(IncidentQuery(agencies=frozenset({"phuyen"}), assignee="lan"))) == []
    assert ids(many.search_incidents(IncidentQuery(rule_id="r-scan", agencies=bd))) == ["INC-006", "INC-002"]
    window = IncidentQuery(start=T0 + timedelta(minutes=3), end=T0 + timedelta(minutes=8))
    assert ids(many.search_incidents(window)) == ["INC-001", "INC-002", "INC-005"]
    assert many.search_incidents(IncidentQuery(agencies=frozenset())) == []


@pytest.mark.parametrize(("sort", "descending", "expected"), [
    ("last_seen", True, ["INC-006", "INC-003", "INC-001", "INC-002", "INC-005", "INC-004"]),
    ("last_seen", False, ["INC-004", "INC-002", "INC-005", "INC-001", "INC-003", "INC-006"]),
    ("severity", True, ["INC-002", "INC-006", "INC-004", "INC-005", "INC-003", "INC-001"]),
    ("created", False, ["INC-002", "INC-006", "INC-005", "INC-003", "INC-004", "INC-001"]),
    ("first_seen", True, ["INC-006", "INC-003", "INC-001", "INC-002", "INC-005", "INC-004"]),
])
def test_sorts_and_cursor_pages_visit_each_incident_once(many: Store, sort: str, descending: bool,
                                                         expected: list[str]) -> None:
    whole = IncidentQuery(sort=sort, descending=descending)  # type: ignore[arg-type]
    assert ids(many.search_incidents(whole)) == expected
    seen: list[str] = []
    query = replace(whole, limit=4)
    while page := many.search_incidents(query):
        seen += ids(page)
        query = replace(query, after=IncidentCursor.of(page[-1], sort))  # type: ignore[arg-type]
    assert seen == expected


def test_updates_move_the_indexed_columns(many: Store) -> None:
    current = many.get_incident("INC-001")
    assert current is not None and current.version is not None
    many.update_incident(current.model_copy(update={"severity": Severity.critical, "assignee": "hoa",
                                                    "system": "lgsp-binhdinh"}), expected_version=current.version)
    many.refresh()
    assert ids(many.search_incidents(IncidentQuery(assignee="hoa"))) == ["INC-001"]
    assert ids(many.search_incidents(IncidentQuery(systems=frozenset({"lgsp-binhdinh"})))) == ["INC-001"]
    top = many.search_incidents(IncidentQuery(sort="severity", limit=3))
    assert ids(top) == ["INC-001", "INC-002", "INC-006"]


def test_nested_incident_parts_round_trip(store: Store) -> None:
    from canhgac.core.model import Comment, StateChange

    base = incident(1)
    rich = base.model_copy(update={
        "detected_at": T0 - timedelta(hours=2), "description": "Lộ dữ liệu hồ sơ công dân",
        "history": [StateChange(at=T0, actor="lan", from_state=IncidentState.new,
                                to_state=IncidentState.acknowledged)],
        "comments": [Comment(id="c-1", at=T0, author="lan", text="Đã chặn địa chỉ 203.0.113.5")]})
    store.create_incident(rich)
    back = store.get_incident("INC-001")
    assert back is not None
    assert back.model_copy(update={"version": None}) == rich


def alert(n: int, agency: str) -> Alert:
    return Alert(id=f"al-{n}", rule_id="r", rule_title="t", severity=Severity.low, agency=agency,
                 first_seen=T0, last_seen=T0)


def test_alerts_by_id_respect_scope(store: Store) -> None:
    store.put_alerts([alert(1, "binhdinh"), alert(2, "quynhon"), alert(3, "phuyen")])
    store.refresh()
    assert sorted(a.id for a in store.get_alerts(["al-1", "al-3", "al-9"])) == ["al-1", "al-3"]
    assert [a.id for a in store.get_alerts(["al-1", "al-2", "al-3"], agencies=frozenset({"quynhon"}))] == ["al-2"]
    assert store.get_alerts([]) == []


def test_suppressions_and_issued_keys_are_kept_and_scoped(store: Store) -> None:
    first = Suppression(id="SUP-1", rule_id="r-scan", agency="quynhon", entities={"source.ip": "10.0.0.1"},
                        reason="máy quét nội bộ", author="lan", created=T0, expires=T0 + timedelta(days=1))
    store.put_suppression(first)
    store.put_suppression(Suppression(id="SUP-2", reason="toàn quốc", author="lan", created=T0,
                                      expires=T0 + timedelta(days=1)))
    assert [s.id for s in store.list_suppressions()] == ["SUP-1", "SUP-2"]
    assert [s.id for s in store.list_suppressions(agencies=frozenset({"quynhon"}))] == ["SUP-1"]
    assert store.list_suppressions(agencies=frozenset({"phuyen"})) == []
    assert store.get_suppression("SUP-1", agencies=frozenset({"phuyen"})) is None
    revoked = first.model_copy(update={"revoked_at": T0, "revoked_by": "minh"})
    store.put_suppression(revoked)
    assert store.get_suppression("SUP-1") == revoked
    key = ApiKeyRecord(id="key-1", name="tich-hop", sha256="a" * 64, role="agency_viewer", agency="phuyen",
                       created=T0, created_by="admin")
    store.put_api_key(key)
    assert store.find_api_key("a" * 64) == key
    assert store.find_api_key("b" * 64) is None
    assert store.list_api_keys() == [key]


LINES = [
    "203.0.113.5 - - GET /etc/passwd HTTP/1.1 404",
    "198.51.100.7 - - GET /tra-cuu?id=1' OR 1=1-- HTTP/1.1 200",
    "Đăng nhập THẤT BẠI cho tài khoản nguyễn.văn.an từ 203.0.113.50",
    "GET /thu-tuc/dang_ky_ho_kinh_doanh?ma=ABC123 HTTP/1.1 200 example.gov.vn",
    "sshd: Failed password for root from 192.0.2.9 port 22",
]


@pytest.mark.parametrize(("text", "expected"), [
    ("passwd", [0]), ("PASSWD", [0]), ("203.0.113.5", [0]), ("113", []), ("203.0.113", []),
    ("thất bại", [2]), ("Thất", [2]), ("nguyễn.văn.an", [2]), ("1=1", [1]), ("1", [1]),
    ("get http", [0, 1, 3]), ("dang_ky_ho_kinh_doanh", [3]), ("dang", []), ("abc123", [3]),
    ("example.gov.vn", [3]), ("failed root", [4]), ("failed admin", []), ("!!!", []), ("port 22", [4]),
])
def test_free_text_finds_the_same_events_on_every_store(store: Store, text: str, expected: list[int]) -> None:
    events = [{"@timestamp": to_utc_iso(T0 + timedelta(seconds=n)), "organization.id": "binhdinh",
               "event.id": event_id("s", n, line.encode()), "event.original": line, "log.offset": n}
              for n, line in enumerate(LINES)]
    store.put_events(events)
    store.refresh()
    found = store.search_events(EventQuery(text=text, newest_first=False))
    assert [e["log.offset"] for e in found] == expected
    assert store.count_events(EventQuery(text=text, agencies=frozenset({"phuyen"}))) == 0
