"""Issue 10: the overview (store aggregations, missed deadlines), the rule catalogue with ATT&CK names, and the
incident detail that explains itself — through the API, on every store."""

from __future__ import annotations

from datetime import timedelta

from canhgac.core.model import Alert, Severity
from canhgac.storage.base import Store
from fastapi.testclient import TestClient

from tests.api.conftest import ANALYST, BINHDINH, NOW, QUYNHON, T0, FrozenClock, make_incident, ok, open_incident

SSH_BRUTE = "a5cae612-e8ff-4d26-9fb9-7f31837b82b4"  # rules/auth/sshd_brute_force.yml


def alert(n: int, agency: str, *, rule: str = SSH_BRUTE, severity: Severity = Severity.high, minutes: float = 0,
          ip: str = "203.0.113.5", details: dict | None = None) -> Alert:  # type: ignore[type-arg]
    seen = T0 + timedelta(minutes=minutes)
    return Alert(id=f"al-{n}", rule_id=rule, rule_title="SSH Brute Force", rule_title_vi="Dò mật khẩu SSH",
                 severity=severity, agency=agency, system="cong-quynhon" if agency == "quynhon" else None,
                 entities={"source.ip": ip}, first_seen=seen, last_seen=seen, count=10, details=details or {})


def seed_alerts(store: Store) -> None:
    store.put_alerts([alert(1, "quynhon", minutes=0), alert(2, "quynhon", minutes=31, severity=Severity.low),
                      alert(3, "quynhon", minutes=32, rule="web-sqli", severity=Severity.critical, ip="198.51.100.7"),
                      alert(4, "phuyen", minutes=33), alert(5, "quynhon", minutes=-60 * 30)])  # the last: too old
    store.refresh()


def test_overview_counts_histogram_tops_and_scope(client: TestClient, store: Store) -> None:
    seed_alerts(store)
    for n, agency in enumerate(["quynhon", "quynhon", "phuyen"]):
        incident = make_incident(f"INC-{n}", agency, minutes=n)
        store.create_incident(incident.model_copy(update={"system": "cong-quynhon" if agency == "quynhon" else None,
                                                          "severity": [Severity.high, Severity.low][n % 2]}))
    store.refresh()
    whole = ok(client.get("/api/v1/overview", headers=ANALYST))
    assert whole["until"].startswith(NOW.isoformat()[:19]) and whole["interval_seconds"] == 1800
    assert 24 <= len(whole["alerts"]["histogram"]) <= 60
    assert whole["incidents"]["total"] == 3
    assert whole["incidents"]["by_severity"] == {"low": 1, "medium": 0, "high": 2, "critical": 0}
    assert whole["incidents"]["by_state"]["new"] == 3 and whole["incidents"]["by_state"]["closed"] == 0
    assert whole["alerts"]["total"] == 4
    busy = [b for b in whole["alerts"]["histogram"] if b["low"] + b["medium"] + b["high"] + b["critical"]]
    assert [(b["low"], b["high"], b["critical"]) for b in busy] == [(0, 1, 0), (1, 1, 1)]
    assert whole["top_sources"] == [{"value": "203.0.113.5", "count": 3}, {"value": "198.51.100.7", "count": 1}]
    assert whole["top_rules"][0] == {"rule_id": SSH_BRUTE, "title": "SSH Brute Force",
                                     "title_vi": "Dò mật khẩu SSH (brute force)", "count": 3}
    assert whole["top_rules"][1] == {"rule_id": "web-sqli", "title": "web-sqli", "title_vi": None, "count": 1}
    assert [(s["system"], s["count"]) for s in whole["top_systems"]] == [("cong-quynhon", 2)]
    mine = ok(client.get("/api/v1/overview", headers=QUYNHON))
    assert mine["alerts"]["total"] == 3 and mine["incidents"]["total"] == 2
    window = {"since": (T0 + timedelta(minutes=31)).isoformat(), "until": (T0 + timedelta(hours=2)).isoformat()}
    late = ok(client.get("/api/v1/overview", params=window, headers=ANALYST))
    assert late["alerts"]["total"] == 3 and late["interval_seconds"] == 120 and len(late["alerts"]["histogram"]) == 45
    bad = client.get("/api/v1/overview", params={"since": NOW.isoformat(), "until": T0.isoformat()}, headers=ANALYST)
    assert ok(bad, 422)["errors"][0]["field"] == "query.since"
    assert ok(client.get("/api/v1/overview?agency=phuyen", headers=QUYNHON), 404)


def test_overview_lists_missed_legal_deadlines(client: TestClient, clock: FrozenClock) -> None:
    created = ok(open_incident(client, agency="quynhon", severity="high"), 201)
    open_incident(client, agency="phuyen", severity="medium", system="dvc-phuyen")
    assert ok(client.get("/api/v1/overview", headers=ANALYST))["overdue"] == []
    clock.advance(days=6)  # the incident notice is due 5 days after detection
    overdue = ok(client.get("/api/v1/overview", headers=QUYNHON))["overdue"]
    assert [(o["incident_id"], o["clock"]) for o in overdue] == [(created["id"], "incident_notice")]
    assert overdue[0]["overdue_hours"] > 0 and overdue[0]["title"] == created["title"]
    assert len(ok(client.get("/api/v1/overview", headers=ANALYST))["overdue"]) == 2


def test_rules_carry_metadata_and_attack_names(sqlite_client: TestClient) -> None:
    rules = ok(sqlite_client.get("/api/v1/rules", headers=BINHDINH))
    by_id = {r["id"]: r for r in rules}
    brute = by_id[SSH_BRUTE]
    assert brute["kind"] == "correlation" and brute["title_vi"].startswith("Dò mật khẩu SSH")
    assert brute["response_vi"].startswith("Chặn địa chỉ nguồn") and brute["falsepositives"]
    assert brute["attack"]["techniques"] == [{"id": "T1110.001", "name": "Brute Force: Password Guessing",
                                              "url": "https://attack.mitre.org/techniques/T1110/001/"}]
    assert brute["attack"]["tactics"][0]["name"] == "Credential Access"
    anomaly = by_id["canhgac-anomaly-traffic"]
    assert anomaly["detector"] == "anomaly" and anomaly["response_vi"]
    named = [t for r in rules for t in r["attack"]["techniques"]]
    assert named and all(t["name"] for t in named), [t for t in named if not t["name"]]
    assert ok(sqlite_client.get(f"/api/v1/rules/{SSH_BRUTE}", headers=BINHDINH)) == brute
    assert ok(sqlite_client.get("/api/v1/rules/no-such-rule", headers=BINHDINH), 404)
    attack = ok(sqlite_client.get("/api/v1/attack", headers=BINHDINH))
    assert attack["version"].startswith("ATT&CK v18") and attack["techniques"]["T1190"] == \
        "Exploit Public-Facing Application"
    assert attack["tactics"]["initial-access"] == "Initial Access"


def test_incident_detail_explains_itself(client: TestClient, store: Store) -> None:
    anomaly = {"window_minutes": 5, "features": [{"feature": "requests", "value": 2946, "baseline": 122,
                                                  "score": 240.19}]}
    store.put_alerts([alert(1, "quynhon"), alert(2, "quynhon", minutes=1),
                      alert(3, "quynhon", minutes=2, rule="canhgac-anomaly-traffic", details=anomaly)])
    incident = make_incident("INC-1", "quynhon", alert_ids=["al-1", "al-2", "al-3"])
    store.create_incident(incident.model_copy(update={"rule_id": SSH_BRUTE, "attack_techniques": ["T1110.001"],
                                                      "attack_tactics": ["credential-access"]}))
    store.refresh()
    detail = ok(client.get("/api/v1/incidents/INC-1", headers=QUYNHON))
    groups = detail["alert_groups"]
    assert [(g["rule_id"], g["alerts"], g["count"]) for g in groups] == [(SSH_BRUTE, 2, 20),
                                                                          ("canhgac-anomaly-traffic", 1, 10)]
    assert groups[0]["example"]["id"] == "al-2"
    assert groups[1]["example"]["details"]["features"][0]["baseline"] == 122
    assert len(detail["alerts"]) == 3
    rules = {r["rule_id"]: r for r in detail["rules"]}
    assert rules[SSH_BRUTE]["response_vi"].startswith("Chặn") and rules[SSH_BRUTE]["attack"]["techniques"]
    assert rules["canhgac-anomaly-traffic"]["description"]
    # Vietnamese first: the rule file's own Vietnamese description and false-positive notes, item for item.
    assert "địa chỉ" in rules[SSH_BRUTE]["description_vi"]
    assert len(rules[SSH_BRUTE]["falsepositives_vi"]) == len(rules[SSH_BRUTE]["falsepositives"]) > 0
    assert detail["attack"]["techniques"][0]["name"] == "Brute Force: Password Guessing"
    assert detail["attack"]["tactics"] == [{"id": "credential-access", "name": "Credential Access",
                                            "url": "https://attack.mitre.org/tactics/TA0006/"}]


def test_overview_request_pattern_on_elasticsearch(settings, elasticsearch_store: Store) -> None:  # type: ignore[no-untyped-def]
    from canhgac.api import create_app

    from tests.storage.test_incident_search import Spy

    for n in range(40):
        elasticsearch_store.create_incident(make_incident(f"INC-{n}", "quynhon", minutes=n))
    elasticsearch_store.put_alerts([alert(n, "quynhon", minutes=n) for n in range(40)])
    elasticsearch_store.refresh()
    with TestClient(create_app(settings, elasticsearch_store, clock=FrozenClock(NOW))) as client:
        ok(client.get("/api/v1/rules", headers=ANALYST))  # the rule catalogue is loaded once, before counting
        spy = Spy(elasticsearch_store)
        found = ok(client.get("/api/v1/overview", headers=ANALYST))
    assert found["incidents"]["total"] == 40 and found["alerts"]["total"] == 40
    # three incident aggregations, the histogram, two alert aggregations: no document read; then the open
    # incidents for the legal clocks, one page of 500
    assert sorted(spy.calls) == [("search", 0)] * 6 + [("search", 500)]
