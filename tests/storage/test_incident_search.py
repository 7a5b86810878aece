"""Store contract for issue 10: incident free text, any-rule filter, new sorts, counts and aggregations — on
every backend, with the same answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from canhgac.core.model import Alert, Incident, IncidentState, RuleHit, Severity
from canhgac.storage.base import AlertQuery, IncidentCursor, IncidentQuery, IncidentSort, Store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def hit(rule_id: str, title: str, title_vi: str | None = None, count: int = 1) -> RuleHit:
    return RuleHit(rule_id=rule_id, title=title, title_vi=title_vi, severity=Severity.high, count=count, alerts=1,
                   first_seen=T0, last_seen=T0)


def incident(n: int, *, agency: str = "binhdinh", title: str = "sự cố", ip: str = "203.0.113.5",
             rules: list[RuleHit] | None = None, state: IncidentState = IncidentState.new,
             severity: Severity = Severity.high, alert_count: int = 1, assignee: str | None = None,
             minutes: float = 0, system: str | None = None) -> Incident:
    seen = T0 + timedelta(minutes=minutes)
    opening = rules[0].rule_id if rules else "r-open"
    return Incident(id=f"BDH-2026-{n:06d}", agency=agency, title=title, title_en="Incident", severity=severity,
                    state=state, fingerprint=f"f|{n}", rule_id=opening, rules=rules or [], entities={"source.ip": ip},
                    alert_count=alert_count, assignee=assignee, system=system, first_seen=seen, last_seen=seen)


@pytest.fixture
def seeded(store: Store) -> Store:
    store.create_incident(incident(1, title="Dò mật khẩu SSH (brute force) — 203.0.113.5",
                                   rules=[hit("ssh-fail", "SSH Authentication Failure", "Đăng nhập SSH thất bại"),
                                          hit("ssh-brute", "SSH Brute Force", "Dò mật khẩu SSH")],
                                   alert_count=40, state=IncidentState.investigating, assignee="lan.nguyen"))
    store.create_incident(incident(2, title="Tấn công SQL injection — 198.51.100.7", ip="198.51.100.7",
                                   rules=[hit("web-sqli", "SQL Injection", "Tấn công SQL injection")],
                                   alert_count=5, agency="quynhon", severity=Severity.critical, minutes=1))
    store.create_incident(incident(3, title="Lưu lượng truy cập bất thường", ip="10.0.0.1",
                                   rules=[hit("canhgac-anomaly-traffic", "Traffic anomaly")],
                                   alert_count=1, agency="phuyen", state=IncidentState.closed,
                                   severity=Severity.medium, minutes=2, system="dvc-phuyen"))
    store.refresh()
    return store


def ids(found: list[Incident]) -> list[int]:
    return [int(i.id[-6:]) for i in found]


@pytest.mark.parametrize(("text", "expected"), [
    ("203.0.113.5", [1]), ("203.0.113", [1]), ("do mat khau", [1]), ("DÒ MẬT", [1]), ("đăng nhập", [1]),
    ("brute", [1]), ("sql injection", [2]), ("tan cong", [2]), ("BDH-2026-000002", [2]), ("000003", [3]),
    ("lan.nguyen", [1]), ("lan", [1]), ("bat thuong", [3]), ("anomaly", [3]), ("incident", [1, 2, 3]),
    ("ssh sql", []), ("!!!", []), ('"*) OR (', []), ("dvc-phuyen", [3]),
])
def test_free_text_finds_the_same_incidents_on_every_store(seeded: Store, text: str, expected: list[int]) -> None:
    query = IncidentQuery(text=text, sort="id", descending=False)
    assert ids(seeded.search_incidents(query)) == expected
    assert seeded.count_incidents(query) == len(expected)


def test_free_text_follows_updates_and_scope(seeded: Store) -> None:
    current = seeded.get_incident("BDH-2026-000002")
    assert current is not None and current.version is not None
    seeded.update_incident(current.model_copy(update={"assignee": "minh.tran"}), expected_version=current.version)
    seeded.refresh()
    assert ids(seeded.search_incidents(IncidentQuery(text="minh"))) == [2]
    assert seeded.search_incidents(IncidentQuery(text="minh", agencies=frozenset({"binhdinh"}))) == []


def test_rule_filter_matches_any_rule_that_joined(seeded: Store) -> None:
    assert ids(seeded.search_incidents(IncidentQuery(rule_id="ssh-brute"))) == [1]
    assert ids(seeded.search_incidents(IncidentQuery(rule_id="ssh-fail"))) == [1]
    assert seeded.count_incidents(IncidentQuery(rule_id="web-sqli")) == 1
    assert seeded.search_incidents(IncidentQuery(rule_id="nope")) == []
    current = seeded.get_incident("BDH-2026-000002")
    assert current is not None and current.version is not None
    grown = current.model_copy(update={"rules": [*current.rules, hit("ssh-brute", "SSH Brute Force")]})
    seeded.update_incident(grown, expected_version=current.version)
    seeded.refresh()
    assert ids(seeded.search_incidents(IncidentQuery(rule_id="ssh-brute", sort="id", descending=False))) == [1, 2]


@pytest.mark.parametrize(("sort", "descending", "expected"), [
    ("state", False, [2, 1, 3]), ("state", True, [3, 1, 2]), ("alert_count", True, [1, 2, 3]),
    ("alert_count", False, [3, 2, 1]), ("id", True, [3, 2, 1]), ("agency", False, [1, 3, 2]),
    ("agency", True, [2, 3, 1]),
])
def test_new_sorts_page_with_cursors(seeded: Store, sort: IncidentSort, descending: bool,
                                     expected: list[int]) -> None:
    whole = IncidentQuery(sort=sort, descending=descending)
    assert ids(seeded.search_incidents(whole)) == expected
    seen: list[int] = []
    query = replace(whole, limit=1)
    while page := seeded.search_incidents(query):
        seen += ids(page)
        query = replace(query, after=IncidentCursor.of(page[-1], sort))
    assert seen == expected


def test_counts_ignore_paging_and_respect_filters(seeded: Store) -> None:
    assert seeded.count_incidents(IncidentQuery(limit=1)) == 3
    first = seeded.search_incidents(IncidentQuery(limit=1))
    after = IncidentCursor.of(first[0], "last_seen")
    assert seeded.count_incidents(IncidentQuery(limit=1, after=after)) == 3
    assert seeded.count_incidents(IncidentQuery(agencies=frozenset({"binhdinh", "quynhon"}))) == 2
    assert seeded.count_incidents(IncidentQuery(agencies=frozenset())) == 0
    assert seeded.count_incidents(IncidentQuery(states=frozenset({IncidentState.closed}))) == 1


def test_incidents_counted_by_field(seeded: Store) -> None:
    assert seeded.count_incidents_by(IncidentQuery(), "severity") == {"critical": 1, "high": 1, "medium": 1}
    assert seeded.count_incidents_by(IncidentQuery(), "state") == {"closed": 1, "investigating": 1, "new": 1}
    assert seeded.count_incidents_by(IncidentQuery(), "system") == {"dvc-phuyen": 1}
    assert seeded.count_incidents_by(IncidentQuery(agencies=frozenset({"quynhon"})), "agency") == {"quynhon": 1}
    assert seeded.count_incidents_by(IncidentQuery(start=T0 + timedelta(minutes=1)), "agency", size=1) == \
        {"phuyen": 1}


def alert(n: int, *, rule: str = "web-sqli", severity: Severity = Severity.high, minutes: float = 0,
          ip: str = "203.0.113.5", agency: str = "binhdinh") -> Alert:
    seen = T0 + timedelta(minutes=minutes)
    return Alert(id=f"al-{n}", rule_id=rule, rule_title="t", severity=severity, agency=agency,
                 entities={"source.ip": ip}, first_seen=seen, last_seen=seen, system="dvc-binhdinh")


@pytest.fixture
def alerts(store: Store) -> Store:
    store.put_alerts([
        alert(1, minutes=0), alert(2, minutes=3, severity=Severity.low, rule="ssh-fail"),
        alert(3, minutes=7, severity=Severity.low, rule="ssh-fail", ip="198.51.100.7"),
        alert(4, minutes=12, severity=Severity.critical, ip="198.51.100.7"),
        alert(5, minutes=14, severity=Severity.low, rule="ssh-fail", ip="198.51.100.7", agency="phuyen"),
    ])
    store.refresh()
    return store


def test_alerts_counted_by_field_and_entity(alerts: Store) -> None:
    assert alerts.count_alerts_by(AlertQuery(), "rule_id") == {"ssh-fail": 3, "web-sqli": 2}
    assert alerts.count_alerts_by(AlertQuery(), "entities.source.ip") == {"198.51.100.7": 3, "203.0.113.5": 2}
    assert alerts.count_alerts_by(AlertQuery(agencies=frozenset({"binhdinh"})), "entities.source.ip", size=1) == \
        {"198.51.100.7": 2}
    assert alerts.count_alerts_by(AlertQuery(), "severity") == {"low": 3, "critical": 1, "high": 1}
    assert alerts.count_alerts_by(AlertQuery(start=T0 + timedelta(minutes=10)), "agency") == \
        {"binhdinh": 1, "phuyen": 1}
    assert alerts.count_alerts_by(AlertQuery(), "system") == {"dvc-binhdinh": 5}
    with pytest.raises(ValueError):
        alerts.count_alerts_by(AlertQuery(), "details")


def test_alert_histogram_by_severity(alerts: Store) -> None:
    buckets = alerts.count_alerts_over_time_by_severity(AlertQuery(), 300)
    assert [(b.start - T0).total_seconds() / 60 for b in buckets] == [0, 5, 10]
    assert [b.counts for b in buckets] == [{Severity.high: 1, Severity.low: 1}, {Severity.low: 1},
                                           {Severity.critical: 1, Severity.low: 1}]
    scoped = alerts.count_alerts_over_time_by_severity(AlertQuery(agencies=frozenset({"phuyen"})), 300)
    assert [(b.start - T0).total_seconds() / 60 for b in scoped] == [10]


class Spy:
    """Counts the Elasticsearch calls a store makes, by API, and how many documents searches asked for."""

    def __init__(self, store: Store) -> None:
        self.calls: list[tuple[str, int]] = []
        client = store.client  # type: ignore[attr-defined]
        for name in ("search", "count"):
            original = getattr(client, name)

            def wrapper(*args: object, _name: str = name, _original: object = original, **kwargs: object) -> object:
                self.calls.append((_name, int(kwargs.get("size") or 0)))  # type: ignore[call-overload]
                return _original(*args, **kwargs)  # type: ignore[operator]

            setattr(client, name, wrapper)


def test_counts_and_aggregations_read_no_documents_on_elasticsearch(elasticsearch_store: Store) -> None:
    for n in range(30):
        elasticsearch_store.create_incident(incident(n + 10, title=f"sự cố {n}", minutes=n))
    elasticsearch_store.put_alerts([alert(n, minutes=n) for n in range(30)])
    elasticsearch_store.refresh()
    spy = Spy(elasticsearch_store)
    assert elasticsearch_store.count_incidents(IncidentQuery(text="su co")) == 30
    assert spy.calls == [("count", 0)]
    spy.calls.clear()
    elasticsearch_store.count_incidents_by(IncidentQuery(), "severity")
    elasticsearch_store.count_alerts_by(AlertQuery(), "entities.source.ip")
    elasticsearch_store.count_alerts_over_time_by_severity(AlertQuery(), 60)
    assert spy.calls == [("search", 0)] * 3  # one aggregation request each, size 0: no hit is read


def test_an_older_sqlite_file_gets_its_search_tables_filled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from canhgac.storage.sqlite import SqliteStore

    path = tmp_path / "old.db"
    old = SqliteStore(path)
    old.create_incident(incident(1, title="Dò mật khẩu SSH", rules=[hit("ssh-fail", "SSH Failure"),
                                                                     hit("ssh-brute", "SSH Brute Force")],
                                 state=IncidentState.closed, alert_count=7))
    old.create_incident(incident(2, title="Tấn công SQL injection", rules=[hit("web-sqli", "SQL Injection")]))
    conn = old._conn()
    for statement in ("DROP TABLE incidents_fts", "DROP TABLE incident_rules", "ALTER TABLE incidents DROP COLUMN "
                      "state_rank", "ALTER TABLE incidents DROP COLUMN alert_count"):
        conn.execute(statement)
    old.close()
    reopened = SqliteStore(path)
    assert ids(reopened.search_incidents(IncidentQuery(text="do mat"))) == [1]
    assert ids(reopened.search_incidents(IncidentQuery(rule_id="ssh-brute"))) == [1]
    assert ids(reopened.search_incidents(IncidentQuery(sort="state", descending=True))) == [1, 2]
    assert ids(reopened.search_incidents(IncidentQuery(sort="alert_count", descending=True))) == [1, 2]
    reopened.close()
