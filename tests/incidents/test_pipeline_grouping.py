"""The shipped rules through the real pipeline, on both stores: an SSH attacker (failures, failure burst,
brute force, spraying) is one incident, a web attacker (SQL injection, traversal, scanner) is one, a request
flood on a system is an incident of that system, and the same address attacking two agencies is two."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from canhgac.core.config import Settings
from canhgac.core.model import Severity, utcnow
from canhgac.core.timeutil import VIETNAM
from canhgac.notifications import NullNotifier
from canhgac.storage.base import IncidentQuery, Store

from canhgac.runtime import Runtime, ingest_files

SSH_ATTACKER = "203.0.113.77"
WEB_ATTACKER = "198.51.100.23"
START = (utcnow() - timedelta(hours=1)).replace(microsecond=0)


def ssh_lines(count: int) -> list[str]:
    lines = []
    for n in range(count):
        local = (START + timedelta(seconds=2 * n)).astimezone(VIETNAM)
        user = ["root", "admin", "oracle", "ubuntu", "quantri", "guest"][n % 6]
        invalid = "" if user == "root" else "invalid user "
        lines.append(f"{local:%b} {local.day:2d} {local:%H:%M:%S} dvc-web01 sshd[{4000 + n}]: Failed password for "
                     f"{invalid}{user} from {SSH_ATTACKER} port {40000 + n} ssh2\n")
    return lines


def access(n: int, ip: str, target: str, status: int, agent: str = "Mozilla/5.0") -> str:
    local = (START + timedelta(seconds=n)).astimezone(VIETNAM)
    return f'{ip} - - [{local:%d/%b/%Y:%H:%M:%S +0700}] "GET {target} HTTP/1.1" {status} 512 "-" "{agent}"\n'


def web_lines() -> list[str]:
    lines = [access(n, WEB_ATTACKER, "/thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%27%20UNION%20SELECT%20username,"
                                     "password%20FROM%20nguoi_dung--", 500) for n in range(4)]
    lines += [access(10 + n, WEB_ATTACKER, "/tai-lieu/tai-ve?tep=../../../../etc/passwd", 400) for n in range(3)]
    lines += [access(20 + n, WEB_ATTACKER, probe, 404, "sqlmap/1.8.11#stable (https://sqlmap.org)")
              for n, probe in enumerate(["/.env", "/.git/config", "/backup.zip", "/phpmyadmin/", "/db.sql"])]
    return lines


def ingest(runtime: Runtime, path: Path, lines: list[str], fmt: str, system: str) -> None:
    path.write_text("".join(lines), encoding="utf-8")
    ingest_files(runtime, [path], fmt, agency=None, system=system)


def test_one_attacker_one_incident_through_the_shipped_rules(store: Store, settings: Settings,
                                                            tmp_path: Path) -> None:
    runtime = Runtime.build(settings, store=store, notifier=NullNotifier("test"))
    ingest(runtime, tmp_path / "auth.log", ssh_lines(25), "sshd", "dvc-binhdinh")
    ingest(runtime, tmp_path / "bd.access.log", web_lines(), "nginx", "dvc-binhdinh")
    ingest(runtime, tmp_path / "qn.access.log", web_lines(), "nginx", "cong-quynhon")
    store.refresh()
    incidents = store.search_incidents(IncidentQuery(limit=100))
    by_owner = {(i.agency, i.entities.get("source.ip")): i for i in incidents}
    assert sorted(by_owner) == [("binhdinh", WEB_ATTACKER), ("binhdinh", SSH_ATTACKER), ("quynhon", WEB_ATTACKER)]
    ssh = by_owner[("binhdinh", SSH_ATTACKER)]
    titles = {hit.title for hit in ssh.rules}
    assert {"SSH Authentication Failure", "SSH Brute Force", "SSH Password Spraying"} <= titles, titles
    failures = next(hit for hit in ssh.rules if hit.title == "SSH Authentication Failure")
    assert failures.alerts == 25 and failures.count == 25
    # named after the most severe rule; of equally severe ones (spraying, brute force), the first to come
    leading = next(hit for hit in ssh.rules if hit.severity is Severity.high)
    assert ssh.severity is Severity.high and ssh.title == f"{leading.title_vi} — {SSH_ATTACKER}"
    web = by_owner[("binhdinh", WEB_ATTACKER)]
    assert len(web.rules) >= 3 and {i.agency for i in incidents if i.entities.get("source.ip") == WEB_ATTACKER} \
        == {"binhdinh", "quynhon"}
    # every rule is audited once: with the incident's creation, or when it joined
    audit = store.list_audit(object_type="incident", object_id=ssh.id)
    assert audit[0].action == "create" and audit[0].after is not None
    at_creation = audit[0].after["grouping"]["rules"]
    joined = [e.after["rule_id"] for e in audit if e.action == "join_rule" and e.after is not None]
    assert sorted([*at_creation, *joined]) == sorted(hit.rule_id for hit in ssh.rules)
