"""The storage contract: every test runs on SQLite and on Elasticsearch (osmem or a real cluster)."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from canhgac.core.errors import NotFound, VersionConflict
from canhgac.core.model import (
    Alert,
    AuditEntry,
    DeadLetter,
    Incident,
    IncidentState,
    Severity,
    event_id,
    to_utc_iso,
)
from canhgac.storage.base import AlertCursor, AlertQuery, EventCursor, EventQuery, IncidentQuery, Store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def make_event(n: int, *, agency: str = "binhdinh", ip: str = "203.0.113.5", status: int = 200,
               minutes: float = 0, path: str = "/tra-cuu-ho-so") -> dict:
    raw = f'{ip} - - "GET {path}?n={n} HTTP/1.1" {status}'.encode()
    return {
        "@timestamp": to_utc_iso(T0 + timedelta(minutes=minutes)),
        "event.id": event_id("/var/log/nginx/access.log", n * 100, raw),
        "event.original": raw.decode(),
        "organization.id": agency,
        "source.ip": ip,
        "http.response.status_code": status,
        "url.path": path,
        "log.offset": n * 100,
    }


def make_alert(n: int, *, agency: str = "binhdinh", severity: Severity = Severity.high,
               rule_id: str = "web-sqli", minutes: float = 0) -> Alert:
    seen = T0 + timedelta(minutes=minutes)
    return Alert(id=f"alert-{n}", rule_id=rule_id, rule_title="SQL injection", severity=severity,
                 agency=agency, entities={"source.ip": "203.0.113.5"}, first_seen=seen, last_seen=seen,
                 event_ids=[f"e{n}"], tags=["attack.t1190"])


def make_incident(number: str, *, agency: str = "binhdinh", minutes: float = 0,
                  state: IncidentState = IncidentState.new) -> Incident:
    seen = T0 + timedelta(minutes=minutes)
    return Incident(id=number, agency=agency, title="Tấn công SQL injection vào Cổng dịch vụ công",
                    severity=Severity.high, state=state, fingerprint=f"web-sqli|{agency}|203.0.113.5",
                    rule_id="web-sqli", first_seen=seen, last_seen=seen, alert_ids=["alert-1"], alert_count=1)


def test_put_events_is_idempotent(store: Store) -> None:
    events = [make_event(n) for n in range(3)]
    assert store.put_events(events) == 3
    assert store.put_events([*events, make_event(3)]) == 1
    store.refresh()
    assert store.count_events(EventQuery()) == 4


def test_get_event_respects_scope(store: Store) -> None:
    event = make_event(1, agency="quynhon")
    store.put_events([event])
    store.refresh()
    assert store.get_event(event["event.id"]) == event
    assert store.get_event(event["event.id"], agencies=frozenset({"quynhon", "binhdinh"})) == event
    assert store.get_event(event["event.id"], agencies=frozenset({"phuyen"})) is None
    assert store.get_event("no-such-id") is None


def test_vietnamese_text_round_trips(store: Store) -> None:
    event = make_event(1, path="/thủ-tục/đăng-ký-hộ-kinh-doanh")
    event["user.name"] = "nguyễn.văn.an"
    store.put_events([event])
    store.refresh()
    [found] = store.search_events(EventQuery(filters={"user.name": ["nguyễn.văn.an"]}))
    assert found["url.path"] == "/thủ-tục/đăng-ký-hộ-kinh-doanh"


def test_search_by_time_range_field_and_agency_subtree(store: Store) -> None:
    store.put_events([
        make_event(1, agency="binhdinh", minutes=0),
        make_event(2, agency="quynhon", minutes=10),
        make_event(3, agency="quynhon", minutes=20, ip="198.51.100.7"),
        make_event(4, agency="phuyen", minutes=15),
        make_event(5, agency="quynhon", minutes=40),
    ])
    store.refresh()
    subtree = frozenset({"binhdinh", "quynhon"})
    query = EventQuery(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=40), agencies=subtree)
    found = store.search_events(query)
    assert [e["log.offset"] for e in found] == [300, 200]  # newest first, end exclusive, phuyen excluded
    oldest = store.search_events(EventQuery(agencies=subtree, newest_first=False, limit=2))
    assert [e["log.offset"] for e in oldest] == [100, 200]
    by_ip = store.search_events(EventQuery(agencies=subtree, filters={"source.ip": ["198.51.100.7"]}))
    assert [e["log.offset"] for e in by_ip] == [300]
    assert store.count_events(EventQuery(agencies=frozenset())) == 0
    assert store.count_events(EventQuery(agencies=frozenset({"phuyen"}))) == 1


def test_numeric_field_filter_accepts_text(store: Store) -> None:
    store.put_events([make_event(1, status=404), make_event(2, status=200)])
    store.refresh()
    assert store.count_events(EventQuery(filters={"http.response.status_code": ["404"]})) == 1
    assert store.count_events(EventQuery(filters={"http.response.status_code": [404, 200]})) == 2


def test_counts_by_field(store: Store) -> None:
    store.put_events([make_event(1, ip="10.0.0.1"), make_event(2, ip="10.0.0.2"),
                      make_event(3, ip="10.0.0.2", status=500), make_event(4, ip="10.0.0.3", agency="phuyen")])
    store.refresh()
    scoped = EventQuery(agencies=frozenset({"binhdinh"}))
    assert store.count_events_by(scoped, "source.ip") == {"10.0.0.2": 2, "10.0.0.1": 1}
    assert store.count_events_by(EventQuery(), "http.response.status_code") == {"200": 3, "500": 1}
    assert store.count_events_by(EventQuery(), "organization.id", size=1) == {"binhdinh": 3}


def test_counts_over_time(store: Store) -> None:
    store.put_events([make_event(1, minutes=0), make_event(2, minutes=3), make_event(3, minutes=4.5),
                      make_event(4, minutes=12)])
    store.refresh()
    buckets = store.count_events_over_time(EventQuery(), 300)
    assert [(b.start, b.count) for b in buckets] == [(T0, 3), (T0 + timedelta(minutes=10), 1)]
    scoped = store.count_events_over_time(EventQuery(start=T0 + timedelta(minutes=1)), 60)
    assert [(b.start, b.count) for b in scoped] == [(T0 + timedelta(minutes=m), 1) for m in (3, 4, 12)]


def test_dead_letters_are_kept_once(store: Store) -> None:
    letter = DeadLetter(id="dl-1", received=T0, source_format="nginx", path="/var/log/a.log", offset=42,
                        reason="not a combined log line", raw="garbage ☃", agency="binhdinh")
    assert store.put_dead_letters([letter]) == 1
    assert store.put_dead_letters([letter]) == 0
    store.refresh()
    assert store.search_dead_letters(path="/var/log/a.log") == [letter]
    assert store.search_dead_letters(agencies=frozenset({"phuyen"})) == []


def test_alerts_are_idempotent_and_filterable(store: Store) -> None:
    alerts = [make_alert(1, severity=Severity.low, minutes=1), make_alert(2, minutes=2),
              make_alert(3, agency="phuyen", rule_id="web-traversal", severity=Severity.critical, minutes=3)]
    assert [a.id for a in store.put_alerts(alerts)] == ["alert-1", "alert-2", "alert-3"]
    assert store.put_alerts(alerts) == []
    store.refresh()
    assert [a.id for a in store.search_alerts(AlertQuery())] == ["alert-3", "alert-2", "alert-1"]
    assert [a.id for a in store.search_alerts(AlertQuery(agencies=frozenset({"binhdinh"})))] == \
        ["alert-2", "alert-1"]
    assert [a.id for a in store.search_alerts(AlertQuery(min_severity=Severity.high))] == ["alert-3", "alert-2"]
    assert [a.id for a in store.search_alerts(AlertQuery(rule_id="web-traversal"))] == ["alert-3"]
    window = AlertQuery(start=T0 + timedelta(minutes=2), end=T0 + timedelta(minutes=3))
    assert [a.id for a in store.search_alerts(window)] == ["alert-2"]
    assert store.search_alerts(AlertQuery())[2] == alerts[0]


def test_incident_create_get_update_and_conflict(store: Store) -> None:
    created = store.create_incident(make_incident("BDH-2026-000001"))
    assert created.version is not None
    fetched = store.get_incident("BDH-2026-000001")
    assert fetched is not None and fetched.version == created.version
    assert fetched.title == "Tấn công SQL injection vào Cổng dịch vụ công"

    updated = store.update_incident(fetched.model_copy(update={"state": IncidentState.acknowledged}),
                                    expected_version=fetched.version)
    assert updated.version != fetched.version
    stored = store.get_incident("BDH-2026-000001")
    assert stored is not None and stored.state is IncidentState.acknowledged and stored.version == updated.version

    with pytest.raises(VersionConflict):  # a second analyst still holding the old version
        store.update_incident(fetched.model_copy(update={"assignee": "lan"}), expected_version=fetched.version)
    stored = store.get_incident("BDH-2026-000001")
    assert stored is not None and stored.assignee is None

    with pytest.raises(VersionConflict):
        store.create_incident(make_incident("BDH-2026-000001"))
    with pytest.raises(NotFound):
        store.update_incident(make_incident("BDH-2026-000999"), expected_version=updated.version or "")


def test_incident_scope_and_search(store: Store) -> None:
    store.create_incident(make_incident("BDH-2026-000001", minutes=1))
    store.create_incident(make_incident("QNN-2026-000001", agency="quynhon", minutes=3))
    store.create_incident(make_incident("PYN-2026-000001", agency="phuyen", minutes=2,
                                        state=IncidentState.closed))
    store.refresh()
    assert store.get_incident("PYN-2026-000001", agencies=frozenset({"binhdinh", "quynhon"})) is None
    everything = store.search_incidents(IncidentQuery())
    assert [i.id for i in everything] == ["QNN-2026-000001", "PYN-2026-000001", "BDH-2026-000001"]
    assert all(i.version for i in everything)
    open_states = frozenset(s for s in IncidentState if s.is_open)
    assert [i.id for i in store.search_incidents(IncidentQuery(states=open_states))] == \
        ["QNN-2026-000001", "BDH-2026-000001"]
    scoped = IncidentQuery(agencies=frozenset({"binhdinh"}), fingerprint="web-sqli|binhdinh|203.0.113.5")
    assert [i.id for i in store.search_incidents(scoped)] == ["BDH-2026-000001"]


def test_sequences_never_repeat(store: Store) -> None:
    assert store.next_sequence("incident:BDH:2026") == 1
    assert store.next_sequence("incident:BDH:2026") == 2
    assert store.next_sequence("incident:PYN:2026") == 1
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            number = store.next_sequence("incident:BDH:2026")
            with lock:
                seen.append(number)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(3, 23))


def test_audit_trail_keeps_order_and_scope(store: Store) -> None:
    for n, action in enumerate(["create", "acknowledge", "assign"]):
        store.append_audit(AuditEntry(id=f"audit-{n}", at=T0, actor="soc-analyst", action=action,
                                      object_type="incident", object_id="BDH-2026-000001", agency="binhdinh",
                                      before={"state": "new"}, after={"state": "acknowledged"}))
    store.append_audit(AuditEntry(id="audit-x", at=T0, actor="x", action="create", object_type="incident",
                                  object_id="PYN-2026-000001", agency="phuyen"))
    trail = store.list_audit(object_type="incident", object_id="BDH-2026-000001")
    assert [e.action for e in trail] == ["create", "acknowledge", "assign"]
    assert trail[1].after == {"state": "acknowledged"}
    assert [e.id for e in store.list_audit(agencies=frozenset({"phuyen"}))] == ["audit-x"]
    with pytest.raises(VersionConflict):
        store.append_audit(trail[0])


def test_state_overwrites(store: Store) -> None:
    assert store.get_state("checkpoint:/var/log/a.log") is None
    store.put_state("checkpoint:/var/log/a.log", {"inode": 12, "offset": 100})
    store.put_state("checkpoint:/var/log/a.log", {"inode": 12, "offset": 250})
    assert store.get_state("checkpoint:/var/log/a.log") == {"inode": 12, "offset": 250}


def test_state_is_listed_by_key_prefix(store: Store) -> None:
    assert store.list_state("source-status:") == {}
    store.put_state("source-status:file:/var/log/b.log", {"events": 2})
    store.put_state("source-status:file:/var/log/a.log", {"events": 1})
    store.put_state("source-status:file:/var/log/a.log", {"events": 3})
    store.put_state("file:/var/log/a.log", {"offset": 10})
    assert store.list_state("source-status:") == {"source-status:file:/var/log/a.log": {"events": 3},
                                                  "source-status:file:/var/log/b.log": {"events": 2}}
    assert list(store.list_state("source-status:", limit=1)) == ["source-status:file:/var/log/a.log"]


def test_event_cursor_pages_through_everything_once(store: Store) -> None:
    events = [make_event(n, minutes=n // 3) for n in range(10)]  # ties on @timestamp
    store.put_events(events)
    store.refresh()
    for newest_first in (True, False):
        seen: list[str] = []
        query = EventQuery(limit=3, newest_first=newest_first)
        while page := store.search_events(query):
            seen += [e["event.id"] for e in page]
            query = replace(query, after=EventCursor.of(page[-1]))
        assert sorted(seen) == sorted(e["event.id"] for e in events)
        assert len(seen) == len(set(seen))


def test_alert_cursor_pages_newest_first(store: Store) -> None:
    store.put_alerts([make_alert(n, minutes=n // 2) for n in range(7)])
    store.refresh()
    seen: list[str] = []
    query = AlertQuery(limit=2)
    while page := store.search_alerts(query):
        seen += [a.id for a in page]
        query = replace(query, after=AlertCursor.of(page[-1]))
    assert seen == [a.id for a in store.search_alerts(AlertQuery(limit=100))]
    assert len(seen) == 7


def test_window_features_per_agency(store: Store) -> None:
    store.put_events([
        make_event(1, ip="10.0.0.1", minutes=0), make_event(2, ip="10.0.0.1", status=404, minutes=1),
        make_event(3, ip="10.0.0.2", status=500, minutes=2), make_event(4, ip="10.0.0.3", minutes=6),
        make_event(5, agency="phuyen", ip="10.0.0.9", status=403, minutes=1),
    ])
    store.refresh()
    features = store.window_features(EventQuery(), 300)
    assert [(f.agency, f.start, f.requests, f.errors, f.distinct_sources) for f in features] == [
        ("binhdinh", T0, 3, 2, 2),
        ("binhdinh", T0 + timedelta(minutes=5), 1, 0, 1),
        ("phuyen", T0, 1, 1, 1),
    ]
    scoped = store.window_features(EventQuery(agencies=frozenset({"phuyen"})), 300)
    assert [f.agency for f in scoped] == ["phuyen"] and scoped[0].error_rate == 1.0


#: Lines for free-text search: Vietnamese precomposed and decomposed ("Unicode tổ hợp"), addresses (IPv4,
#: IPv6, with ports), host names, e-mail, numbers, paths, and Chinese (one word per ideograph).
TEXT_LINES = [
    "Đăng nhập THẤT BẠI cho tài khoản nguyễn.văn.an từ 203.0.113.50 cổng 22",
    unicodedata.normalize("NFD", "Hồ sơ đã được tiếp nhận tại Bộ phận một cửa Quy Nhơn"),
    '198.51.100.7 - - "GET /thu-tuc/dang_ky_ho_kinh_doanh?ma=ABC123&ten=Tr%E1%BA%A7n HTTP/1.1" 200 dichvucong.gov.vn',
    "sshd[811]: Failed password for invalid user quản_trị from 2001:db8::7 port 51022 ssh2",
    "Kết nối bị từ chối tới 10.52.0.20:443 (errno=111) lúc 10:42:07.123, thử lại 1,5 giây",
    "user=canbo@binhdinh.gov.vn; vai trò=chuyên viên; mã hồ sơ H12.34-2026",
    "Hồ sơ HS-000123 của công dân Trần Thị Bình đã được trả kết quả",
    "回复 用户 登录 失败 from 203.0.113.5",
]
TEXT_QUERIES = [
    "thất bại", "THẤT", "thất bai", "nguyễn.văn.an", "nguyễn", "203.0.113.50", "203.0.113.5", "203.0.113", "113",
    unicodedata.normalize("NFD", "hồ sơ"), unicodedata.normalize("NFD", "một cửa"), "hồ sơ", "trần", "Tr%E1%BA%A7n",
    "dang_ky_ho_kinh_doanh", "dang", "abc123", "dichvucong.gov.vn", "gov", "quản_trị", "2001:db8::7", "db8",
    "10.52.0.20", "443", "10:42:07.123", "1,5", "canbo@binhdinh.gov.vn", "binhdinh.gov.vn", "h12.34", "2026",
    "hs-000123", "000123", "thị bình", "用户", "用", "失败 203.0.113.5", "failed invalid", "failed admin", "!!!",
]


def _put_text_lines(store: Store) -> None:
    store.put_events([{"@timestamp": to_utc_iso(T0 + timedelta(seconds=n)), "organization.id": "binhdinh",
                       "event.id": event_id("text", n, line.encode()), "event.original": line, "log.offset": n}
                      for n, line in enumerate(TEXT_LINES)])
    store.refresh()


@pytest.mark.parametrize(("text", "expected"), [
    ("thất bại", [0]), ("THẤT", [0]), ("thất bai", []), ("nguyễn.văn.an", [0]), ("nguyễn", []),
    (unicodedata.normalize("NFD", "một cửa"), [1]), ("một cửa", []),  # as stored: no Unicode normalisation
    ("203.0.113.50", [0]), ("203.0.113.5", [7]), ("113", []), ("2001:db8::7", [3]), ("db8", [3]),
    ("10.52.0.20", [4]), ("443", [4]), ("1,5", [4]), ("dichvucong.gov.vn", [2]), ("gov", []),
    ("canbo@binhdinh.gov.vn", [5]), ("binhdinh.gov.vn", [5]), ("hs-000123", [6]), ("thị bình", [6]),
    ("quản_trị", [3]), ("用户", [7]), ("用", [7]), ("失败 203.0.113.5", [7]), ("!!!", []),
])
def test_free_text_words_are_the_same_on_every_store(store: Store, text: str, expected: list[int]) -> None:
    _put_text_lines(store)
    assert [e["log.offset"] for e in store.search_events(EventQuery(text=text, newest_first=False))] == expected
    assert store.count_events(EventQuery(text=text)) == len(expected)


def test_free_text_gives_identical_results_on_both_stores(sqlite_store: Store, elasticsearch_store: Store) -> None:
    for each in (sqlite_store, elasticsearch_store):
        _put_text_lines(each)
    # Every query above, every word and every space-separated piece of every line, searched on both.
    queries = set(TEXT_QUERIES) | {piece for line in TEXT_LINES for piece in line.split()}
    for text in sorted(queries):
        query = EventQuery(text=text, newest_first=False, agencies=frozenset({"binhdinh"}))
        found = [[e["log.offset"] for e in each.search_events(query)] for each in (sqlite_store, elasticsearch_store)]
        assert found[0] == found[1], text
        assert sqlite_store.count_events(query) == elasticsearch_store.count_events(query) == len(found[0]), text
        by_agency = [each.count_events_by(query, "organization.id") for each in (sqlite_store, elasticsearch_store)]
        assert by_agency[0] == by_agency[1], text


def test_free_text_pages_newest_first_through_common_words(store: Store) -> None:
    lines = [f"GET /tra-cuu?ma=HS{n} HTTP/1.1 200 Mozilla/5.0" if n % 3 else f"POST /nop-ho-so/{n} 201"
             for n in range(60)]
    store.put_events([{"@timestamp": to_utc_iso(T0 + timedelta(seconds=n // 2)), "log.offset": n,
                       "organization.id": "quynhon" if n % 2 else "phuyen", "event.original": line,
                       "event.id": event_id("page", n, line.encode())} for n, line in enumerate(lines)])
    store.refresh()
    whole = EventQuery(text="get mozilla", agencies=frozenset({"quynhon"}), limit=100)
    expected = [e["event.id"] for e in store.search_events(whole)]
    assert len(expected) == store.count_events(whole) == sum(1 for n in range(60) if n % 2 and n % 3)
    assert [e["log.offset"] for e in store.search_events(replace(whole, limit=3))] == [59, 55, 53]
    seen: list[str] = []
    query = replace(whole, limit=7)
    while page := store.search_events(query):
        seen += [e["event.id"] for e in page]
        query = replace(query, after=EventCursor.of(page[-1]))
    assert seen == expected
    assert store.count_events_by(whole, "organization.id") == {"quynhon": len(expected)}
    assert sum(b.count for b in store.count_events_over_time(whole, 10)) == len(expected)


class _RecordingClient:
    """The Elasticsearch client, with the search-like requests it is asked to send written down."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client, name)
        if name not in ("search", "count", "scroll", "open_point_in_time", "msearch"):
            return target

        def recorded(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return target(**kwargs)

        return recorded


def test_elasticsearch_answers_text_from_its_index_in_one_request(elasticsearch_store: Store) -> None:
    _put_text_lines(elasticsearch_store)
    recorder = _RecordingClient(elasticsearch_store.client)  # type: ignore[attr-defined]
    elasticsearch_store.client = recorder  # type: ignore[attr-defined]
    query = EventQuery(text="thất bại 203.0.113.50", agencies=frozenset({"binhdinh"}))
    assert [e["log.offset"] for e in elasticsearch_store.search_events(query)] == [0]
    assert elasticsearch_store.count_events(replace(query, text="ttp")) == 0
    assert [name for name, _ in recorder.calls] == ["search", "count"]  # no scroll, no paging over everything
    for _, request in recorder.calls:
        assert any(clause.get("match", {}).get("event.original") for clause in request["query"]["bool"]["filter"])
    assert "query_string" not in str(recorder.calls)  # the caller's text is never query syntax
