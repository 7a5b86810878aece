"""Triage load: how many incidents the demo's traffic makes per attacker, and how many alerts each holds.

    python bench/triage.py [--minutes 60] [--rate 2.0] [--seed 7] [--compare]

The demo's simulator (``canhgac/simulator.py``) writes one simulated hour of portal and SSH traffic — citizens,
an attack every few seconds, one request flood — on a simulated clock, minute by minute, into log files that
go through the real pipeline (collectors, Sigma rules and correlations, the anomaly model every simulated
minute, incident grouping) into an embedded store in a temporary directory. The attackers are those of the
simulator's own attack injection (``attack_lines``: one address per burst; an address that attacks two
agencies is two attackers) plus the flood (one per agency it hits). An incident belongs to an attacker when it
is of the attacker's agency and names the address (or, for the flood, has no principal address and was opened
by the flood's rules). ``--compare`` also runs the old grouping (one incident per rule and address).
Ends with one ``RESULT key=value ...`` line; goal: ``incidents_per_attacker`` ≤ 1.2, no attacker without one.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canhgac.collectors.lines import Origin
from canhgac.core.config import EXAMPLE_CONFIG, Settings, load_settings
from canhgac.core.model import Incident
from canhgac.detectors.anomaly import RULE_ID as ANOMALY_RULE_ID
from canhgac.detectors.anomaly import TrafficAnomalyDetector
from canhgac.detectors.sigma import builtin_rules_dir, load_rules
from canhgac.notifications import NullNotifier
from canhgac.storage.base import IncidentQuery
from canhgac.storage.sqlite import SqliteStore

from canhgac.demo import demo_portals, demo_settings, headline_roles
from canhgac.runtime import Runtime
from canhgac.simulator import Portal, TrafficSimulator

GOAL = 1.2
FLOOD = "flood"
SSH_SOURCE = re.compile(r" from (\S+) port ")
#: Start of the simulated hour: whole minutes, two hours back (syslog lines carry no year; keep it this year).
START = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)


class SimClock:
    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Traffic:
    """Which attacker hit which agency, as the simulator injected it."""

    attackers: set[tuple[str, str]] = field(default_factory=set)  # (agency, address or FLOOD)
    attacks: Counter[str] = field(default_factory=Counter)  # kind → bursts
    lines: int = 0
    anomaly_seconds: float = 0.0


def attacker_of(kind: str, lines: list[str]) -> str:
    if kind == "ssh":
        found = SSH_SOURCE.search(lines[0])
        assert found is not None, lines[0]
        return found.group(1)
    return lines[0].split(" ", 1)[0]


def simulate(settings: Settings, runtime: Runtime, work: Path, minutes: int, rate: float, seed: int,
             flood_after_minutes: int) -> Traffic:
    """The demo's portals, auth log owner and headline attacks (``canhgac/demo.py``), on a simulated clock."""
    clock = SimClock(START)
    systems = {s.id: s for s in settings.systems}
    chosen = demo_portals(settings)
    roles = headline_roles(settings, chosen)
    portals = [Portal(system.id, work / f"{system.id}.access.log") for system in chosen]
    by_id = {portal.system: portal for portal in portals}
    auth = work / "auth.log"
    simulator = TrafficSimulator(portals, auth, seed=seed, rate=rate, clock=clock)
    owner = roles["breach"]  # the demo gives the auth log to the breach portal's system
    sources = [(p.path, "nginx", Origin(str(p.path), str(p.path), systems[p.system].agency, p.system))
               for p in portals]
    sources.append((auth, "sshd", Origin(str(auth), str(auth), owner.agency, owner.id)))
    for path, _, _ in sources:
        path.touch()
    agency_of = {str(p.path): systems[p.system].agency for p in portals} | {str(auth): owner.agency}
    anomaly = TrafficAnomalyDetector(runtime.store, settings.detection.anomaly, clock=clock)
    collection = runtime.collection()
    random = simulator.random
    traffic = Traffic()
    next_attack = START + timedelta(seconds=2)
    for minute in range(minutes):
        pending: dict[Path, list[str]] = {path: [] for path, _, _ in sources}
        for second in range(60):
            now = START + timedelta(minutes=minute, seconds=second)
            for portal in portals:  # as TrafficSimulator.run, on the simulated clock
                count = max(0, round(random.gauss(rate, rate ** 0.5)))
                lines = [simulator.citizen_line(now - timedelta(milliseconds=random.randint(0, 999)))
                         for _ in range(count)]
                pending[portal.path] += sorted(lines, key=lambda line: line.split("[", 1)[1][:26])
            if minute == 0 and second == 1:  # the demo's headline attacks, once each
                for attack in simulator.headline(now, breach=by_id[roles["breach"].id],
                                                 serious=by_id[roles["serious"].id],
                                                 critical=by_id[roles["critical"].id]).values():
                    traffic.attackers.add((systems[attack.system].agency, attack.source_ip))
                    traffic.attacks[attack.kind] += 1
            if now >= next_attack:
                kind, lines = simulator.attack_lines(now)
                path = auth if kind == "ssh" else random.choice(portals).path
                pending[path] += lines
                traffic.attackers.add((agency_of[str(path)], attacker_of(kind, lines)))
                traffic.attacks[kind] += 1
                next_attack = now + timedelta(seconds=random.uniform(0.5, 1.5) * 6.0)
            if minute == flood_after_minutes and second == 0:
                pending[portals[0].path] += simulator.flood_lines(now, int(rate * 60 * 25))
                traffic.attackers.add((agency_of[str(portals[0].path)], FLOOD))
        for path, lines in pending.items():
            with path.open("a", encoding="utf-8") as out:
                out.writelines(lines)
            traffic.lines += len(lines)
        clock.now = START + timedelta(minutes=minute + 1)
        for path, fmt, origin in sources:
            collection.ingest_file(path, fmt, origin, resume=True)
        clock.now += timedelta(seconds=settings.detection.anomaly.grace_seconds)
        started = time.perf_counter()
        runtime.pipeline.raise_alerts(anomaly.run())
        traffic.anomaly_seconds += time.perf_counter() - started
    runtime.store.refresh()
    return traffic


def all_incidents(runtime: Runtime) -> list[Incident]:
    return runtime.store.search_incidents(IncidentQuery(limit=100_000))


def owners(incident: Incident, traffic: Traffic, flood_rules: set[str]) -> set[tuple[str, str]]:
    """The attackers an incident is about."""
    named = {v for k, v in incident.entities.items() if k in ("source.ip", "client.ip")}
    found = {(incident.agency, ip) for ip in named if (incident.agency, ip) in traffic.attackers}
    if not named and (incident.agency, FLOOD) in traffic.attackers and \
            ({h.rule_id for h in incident.rules} or {incident.rule_id}) & flood_rules:
        found.add((incident.agency, FLOOD))
    return found


def flood_rule_ids() -> set[str]:
    """Rules that can name a flood: the anomaly model and the availability correlations of the shipped pack."""
    pack = load_rules([builtin_rules_dir()])
    return {ANOMALY_RULE_ID, *(c.id for c in pack.correlations if c.path.parent.name == "availability")}


def run(minutes: int, rate: float, seed: int, *, by_principal: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="canhgac-triage-") as tmp:
        work = Path(tmp)
        settings = demo_settings(load_settings(EXAMPLE_CONFIG), work)
        grouping = settings.incidents.grouping.model_copy(update={"by_principal": by_principal})
        settings = settings.model_copy(update={"incidents": settings.incidents.model_copy(
            update={"grouping": grouping})})
        store = SqliteStore(work / "store" / "canhgac.db")
        runtime = Runtime.build(settings, store=store, notifier=NullNotifier("bench"))
        started = time.perf_counter()
        try:
            traffic = simulate(settings, runtime, work, minutes, rate, seed, flood_after_minutes=min(40, minutes - 1))
            seconds = time.perf_counter() - started
            incidents = all_incidents(runtime)
            flood_rules = flood_rule_ids()
            per_attacker: Counter[tuple[str, str]] = Counter()
            unowned = 0
            for incident in incidents:
                found = owners(incident, traffic, flood_rules)
                unowned += not found
                for owner in found:
                    per_attacker[owner] += 1
            alerts = [sum(h.alerts for h in i.rules) or len(i.alert_ids) for i in incidents]
            without = sorted(a for a in traffic.attackers if a not in per_attacker)
            attributed = sum(per_attacker.values())
            print(f"{'by principal' if by_principal else 'one per rule (before)'}: {traffic.lines} lines, "
                  f"attacks {dict(traffic.attacks)}, {len(traffic.attackers)} attackers, {len(incidents)} incidents "
                  f"({unowned} about no attacker), {runtime.pipeline.totals.alerts} alerts, {seconds:.1f} s "
                  f"(anomaly model {traffic.anomaly_seconds:.1f} s)")
            worst = per_attacker.most_common(3)
            print(f"  most incidents for one attacker: {worst}")
            if without:
                print(f"  attackers without an incident: {without[:10]}")
            return {"attackers": len(traffic.attackers), "incidents": len(incidents),
                    "incidents_per_attacker": attributed / len(traffic.attackers) if traffic.attackers else 0.0,
                    "alerts_per_incident": sum(alerts) / len(incidents) if incidents else 0.0,
                    "attackers_without_incident": len(without), "incidents_about_no_attacker": unowned,
                    "alerts": runtime.pipeline.totals.alerts, "seconds": seconds}
        finally:
            runtime.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=float, default=2.0, help="citizen requests per second per portal (demo: 2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare", action="store_true", help="also run the old one-incident-per-rule grouping")
    args = parser.parse_args()
    before = run(args.minutes, args.rate, args.seed, by_principal=False) if args.compare else None
    now = run(args.minutes, args.rate, args.seed, by_principal=True)
    result = {"incidents_per_attacker": f"{now['incidents_per_attacker']:.3f}",
              "alerts_per_incident": f"{now['alerts_per_incident']:.2f}",
              "attackers_without_incident": int(now["attackers_without_incident"]),
              "attackers": int(now["attackers"]), "incidents": int(now["incidents"]),
              "incidents_about_no_attacker": int(now["incidents_about_no_attacker"]), "alerts": int(now["alerts"]),
              "seconds": f"{now['seconds']:.1f}"}
    if before is not None:
        result |= {"incidents_per_attacker_before": f"{before['incidents_per_attacker']:.3f}",
                   "alerts_per_incident_before": f"{before['alerts_per_incident']:.2f}"}
    result["goal_met"] = str(now["incidents_per_attacker"] <= GOAL and now["attackers_without_incident"] == 0).lower()
    print("RESULT " + " ".join(f"{key}={value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
