"""One attacker, one incident: alerts of one agency with the same principal entity join one incident whatever
the rule, on both stores. Rules that stand alone, account-centred rules, correlations that absorb the alerts
they counted, titles, the audit trail, and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from canhgac.core.config import Settings
from canhgac.core.config_incidents import Grouping, IncidentSettings
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, IncidentState, Severity
from canhgac.incidents import lifecycle
from canhgac.incidents.operations import merge, split
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import IncidentQuery, Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ATTACKER = "203.0.113.9"


def clock() -> datetime:
    return T0 + timedelta(hours=1)


def service(store: Store, settings: Settings, **grouping: object) -> IncidentService:
    settings = settings.model_copy(update={"incidents": IncidentSettings(grouping=Grouping(**grouping))})
    return IncidentService(store, Directory(settings), clock=clock)


def alert(name: str, rule: str, *, severity: Severity = Severity.low, ip: str | None = ATTACKER,
          user: str | None = None, agency: str = "binhdinh", minutes: float = 1, count: int = 1,
          events: list[str] | None = None, details: dict[str, object] | None = None, rule_name: str | None = None,
          grouping: str | None = None, title: str | None = None) -> Alert:
    seen = T0 + timedelta(minutes=minutes)
    entities = {k: v for k, v in (("source.ip", ip), ("user.name", user)) if v is not None}
    return Alert(id=name, rule_id=rule, rule_title=title or f"Rule {rule}", rule_title_vi=f"Luật {rule}",
                 rule_name=rule_name, grouping=grouping, severity=severity, agency=agency, system="dvc-binhdinh",
                 entities=entities, first_seen=seen, last_seen=seen, count=count, event_ids=events or [f"e-{name}"],
                 details=details or {}, created=seen)


def failures(n: int, *, ip: str = ATTACKER, start: int = 0, rule: str = "ssh-fail") -> list[Alert]:
    return [alert(f"f{start + i}-{ip}", rule, ip=ip, user=f"user{i % 5}", minutes=1 + i / 60) for i in range(n)]


def brute_force(counted: list[Alert], *, name: str = "bf1", rule: str = "ssh-brute", group: str = "source.ip",
                grouping: str | None = None, severity: Severity = Severity.high) -> Alert:
    first = counted[0]
    value = first.entities[group]
    return alert(name, rule, severity=severity, ip=value if group == "source.ip" else None,
                 user=value if group == "user.name" else None, minutes=2, count=len(counted),
                 events=[e for a in counted for e in a.event_ids], grouping=grouping,
                 details={"correlation": "event_count", "rules": [first.rule_id], "group": {group: value}})


def audit_actions(store: Store, incident_id: str) -> list[str]:
    return [e.action for e in store.list_audit(object_type="incident", object_id=incident_id)]


def test_one_attacker_is_one_incident_whatever_the_rule(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    fails = failures(12)
    [opened] = incidents.ingest_alerts(fails[:6])
    assert opened.created and opened.incident.severity is Severity.low
    assert opened.incident.title == f"Luật ssh-fail — {ATTACKER}"
    changes = incidents.ingest_alerts([*fails[6:], brute_force(fails), alert("spray1", "ssh-spray",
                                                                             severity=Severity.medium, minutes=3)])
    [grown] = changes
    incident = grown.incident
    assert not grown.created and incident.id == opened.incident.id and grown.rules_joined == ["ssh-brute",
                                                                                               "ssh-spray"]
    assert incident.severity is Severity.high and grown.severity_raised
    assert incident.title == f"Luật ssh-brute — {ATTACKER}" and incident.title_en == f"Rule ssh-brute — {ATTACKER}"
    assert [(h.rule_id, h.alerts, h.count, h.severity) for h in incident.rules] == [
        ("ssh-fail", 12, 12, Severity.low), ("ssh-brute", 1, 12, Severity.high), ("ssh-spray", 1, 1, Severity.medium)]
    fail_hit = incident.rules[0]
    assert fail_hit.first_seen == fails[0].first_seen and fail_hit.last_seen == fails[-1].last_seen
    assert incident.rule_id == "ssh-fail"  # the rule that opened it
    store.refresh()
    assert len(store.search_incidents(IncidentQuery())) == 1
    assert audit_actions(store, incident.id) == ["create", "join_rule", "join_rule", "raise_severity"]


def test_the_audit_trail_says_why_alerts_joined(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    fails = failures(3)
    [opened] = incidents.ingest_alerts(fails)
    incidents.ingest_alerts([brute_force(fails)])
    store.refresh()
    create, join, raised = store.list_audit(object_type="incident", object_id=opened.incident.id)
    assert raised.action == "raise_severity"
    assert create.after is not None and create.after["grouping"]["fingerprint"] == opened.incident.fingerprint
    assert create.after["grouping"]["reason"] == f"same source.ip {ATTACKER}"
    assert create.after["grouping"]["alert_ids"] == [a.id for a in fails]
    assert join.action == "join_rule" and join.actor == "canhgac" and join.after is not None
    assert (join.after["rule_id"], join.after["alerts"], join.after["count"]) == ("ssh-brute", 1, 3)
    assert join.after["alert_ids"] == ["bf1"] and join.after["incident_title"] == f"Luật ssh-brute — {ATTACKER}"
    assert join.before == {"rules": ["ssh-fail"], "title": f"Luật ssh-fail — {ATTACKER}"}


def test_a_title_a_person_gave_is_kept(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    fails = failures(3)
    [opened] = incidents.ingest_alerts(fails)
    incidents.apply(opened.incident.id, scope=None, expected_version="*", actor="lan", action="update",
                    mutate=lambda i: lifecycle.apply_fields(i, {"title": "Dò mật khẩu vào máy chủ DVC"},
                                                            now=clock(), known_systems=frozenset()))
    [grown] = incidents.ingest_alerts([brute_force(fails)])
    assert grown.incident.title == "Dò mật khẩu vào máy chủ DVC" and grown.incident.severity is Severity.high
    assert [h.rule_id for h in grown.incident.rules] == ["ssh-fail", "ssh-brute"]


def test_other_addresses_and_other_agencies_stay_apart(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    changes = incidents.ingest_alerts([alert("a1", "r-sqli"), alert("a2", "r-xss", ip="198.51.100.7"),
                                       alert("a3", "r-sqli", agency="quynhon"), alert("a4", "r-xss")])
    by_key = {(c.incident.agency, c.incident.entities["source.ip"]): c.incident for c in changes}
    assert sorted(by_key) == [("binhdinh", "198.51.100.7"), ("binhdinh", ATTACKER), ("quynhon", ATTACKER)]
    assert by_key[("binhdinh", ATTACKER)].alert_ids == ["a1", "a4"]
    store.refresh()
    # a responder of Quy Nhơn sees Quy Nhơn's incident for the address, and no alert of Bình Định in it
    [seen] = store.search_incidents(IncidentQuery(agencies=frozenset({"quynhon"})))
    assert seen.alert_ids == ["a3"] and seen.agency == "quynhon"
    assert store.get_incident(by_key[("binhdinh", ATTACKER)].id, agencies=frozenset({"quynhon"})) is None


def test_a_correlation_absorbs_the_alerts_it_counted_even_of_another_principal(store: Store,
                                                                             settings: Settings) -> None:
    incidents = service(store, settings)
    # one official's account, used from two workstations; the correlation is account-centred
    views = [alert(f"v{i}", "os-view", ip=f"10.0.0.{i % 2 + 1}", user="can-bo-a", minutes=1 + i / 60)
             for i in range(6)]
    mass = brute_force(views, name="mass1", rule="os-mass", group="user.name", grouping="user")
    stray = alert("v-other", "os-view", ip="10.0.0.1", user="can-bo-b", minutes=2)
    changes = incidents.ingest_alerts([*views, mass, stray])
    [official] = [c.incident for c in changes if c.incident.fingerprint.endswith("|user.name|can-bo-a")]
    assert sorted(official.alert_ids) == sorted([*(v.id for v in views), "mass1"])
    assert official.title == "Luật os-mass — can-bo-a"
    [other] = [c.incident for c in changes if c.incident.id != official.id]
    assert other.alert_ids == ["v-other"]  # not counted by the correlation: grouped by its own address
    store.refresh()
    create = store.list_audit(object_type="incident", object_id=official.id)[0]
    assert create.after is not None and "counted by correlation alert mass1" in create.after["grouping"]["reason"]


def test_account_centred_rules_choose_the_user(store: Store, settings: Settings) -> None:
    incidents = service(store, settings, rules={"portal-stuffing-by-user": "user"})
    changes = incidents.ingest_alerts([
        alert("u1", "gw-volume", ip="10.1.0.1", user="tk-chia-se", grouping="user"),
        alert("u2", "gw-volume", ip="10.1.0.2", user="tk-chia-se", grouping="user"),
        alert("u3", "portal-stuffing", ip="10.1.0.3", user="tk-chia-se", rule_name="portal-stuffing-by-user"),
        alert("u4", "other", ip="10.1.0.3", user="tk-chia-se")])  # not account-centred: by its address
    assert sorted(sorted(c.incident.alert_ids) for c in changes) == [["u1", "u2", "u3"], ["u4"]]


def test_rules_that_stand_alone_keep_their_own_incident(store: Store, settings: Settings) -> None:
    incidents = service(store, settings, rules={"r-config-alone": "alone", "named-alone": "alone",
                                                "r-attr": "source"})
    changes = incidents.ingest_alerts([
        alert("s1", "r-sqli"), alert("s2", "r-config-alone"), alert("s3", "r-named", rule_name="named-alone"),
        alert("s4", "r-file-alone", grouping="alone"), alert("s5", "r-file-alone", grouping="alone"),
        alert("s6", "r-attr", grouping="alone")])  # the configuration overrides the rule file
    groups = sorted(sorted(c.incident.alert_ids) for c in changes)
    assert groups == [["s1", "s6"], ["s2"], ["s3"], ["s4", "s5"]]
    alone = next(c.incident for c in changes if c.incident.alert_ids == ["s2"])
    assert alone.fingerprint == f"r-config-alone|binhdinh|{ATTACKER}"


def test_a_counted_alert_of_a_rule_that_stands_alone_is_not_absorbed(store: Store, settings: Settings) -> None:
    incidents = service(store, settings, rules={"ssh-fail": "alone"})
    fails = failures(4)
    changes = incidents.ingest_alerts([*fails, brute_force(fails)])
    assert sorted(len(c.incident.alert_ids) for c in changes) == [1, 4]


def test_alerts_without_a_principal_group_by_rule_agency_and_system(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    changes = incidents.ingest_alerts([
        alert("n1", "anomaly", ip=None), alert("n2", "anomaly", ip=None, minutes=5),
        alert("n3", "web-5xx", ip=None), alert("n4", "anomaly", ip=None, agency="quynhon"),
        alert("n5", "web-5xx", grouping="system")])  # a rule that says "system" is not about its address
    assert sorted(sorted(c.incident.alert_ids) for c in changes) == [["n1", "n2"], ["n3", "n5"], ["n4"]]
    assert all(c.incident.fingerprint.startswith("system|") for c in changes)
    assert {c.incident.title for c in changes} == {"Luật anomaly", "Luật web-5xx"}


def test_the_window_the_cooloff_and_split_still_hold(store: Store, settings: Settings) -> None:
    incidents = service(store, settings, window_minutes=30, reopen_cooloff_hours=0)
    both = [alert("w1", "r-a", minutes=0), alert("w2", "r-b", minutes=1)]
    store.put_alerts(both)  # as the pipeline does before grouping: split reads the moved alerts
    store.refresh()
    [first] = incidents.ingest_alerts(both)
    kept, off = split(incidents, first.incident.id, ["w2"], scope=None, expected_version="*", actor="lan",
                      title=None)
    assert off.alert_ids == ["w2"] and kept.alert_ids == ["w1"]
    assert [(h.rule_id, h.alerts) for h in off.rules] == [("r-b", 1)]
    [later] = incidents.ingest_alerts([alert("w3", "r-b", minutes=20)])
    assert later.incident.id == first.incident.id  # later alerts still join the original
    [outside] = incidents.ingest_alerts([alert("w4", "r-c", minutes=60)])
    assert outside.created and outside.incident.state is IncidentState.new


def test_grouping_by_principal_can_be_switched_off(store: Store, settings: Settings) -> None:
    incidents = service(store, settings, by_principal=False)
    fails = failures(3)
    changes = incidents.ingest_alerts([*fails, brute_force(fails)])
    assert sorted(len(c.incident.alert_ids) for c in changes) == [1, 3]


@pytest.mark.parametrize(("rules", "message"), [
    ({"r1": "together"}, "source"),
    ({" r1": "alone"}, "without surrounding spaces"),
])
def test_the_per_rule_override_is_validated(rules: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Grouping(rules=rules)  # type: ignore[arg-type]


def test_unknown_rules_in_the_override_are_named() -> None:
    grouping = Grouping(rules={"ssh_failure_burst": "alone", "no-such-rule": "user"})
    assert grouping.unknown_rules({"ssh_failure_burst", "f975ef48"}) == ["no-such-rule"]


def test_a_merge_folds_the_rules_of_every_incident(store: Store, settings: Settings) -> None:
    incidents = service(store, settings)
    changes = incidents.ingest_alerts([alert("m1", "r-a"), alert("m2", "r-b", ip="198.51.100.7"),
                                       alert("m3", "r-a", ip="198.51.100.7", severity=Severity.high)])
    first, second = sorted((c.incident for c in changes), key=lambda i: i.id)
    merged = merge(incidents, first.id, [second.id], scope=None, expected_version="*", actor="lan")
    assert [(h.rule_id, h.alerts, h.severity) for h in merged.rules] == [("r-a", 2, Severity.high),
                                                                         ("r-b", 1, Severity.low)]
