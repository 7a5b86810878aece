"""``canhgac demo``: the server on the example configuration, fed by simulated portal traffic, its data in a
folder of its own; within its first minute it shows each headline feature once (see ``DemoAnalyst``)."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from canhgac.commands.serve import serve
from canhgac.core.config import EXAMPLE_CONFIG, MonitoredSystem, Settings, SystemKind, load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable
from canhgac.demo_analyst import DemoAnalyst
from canhgac.runtime import Runtime
from canhgac.simulator import Portal, TrafficSimulator

MARKER = ".canhgac-demo"  # a folder holding this file is the demo's own: safe to clear its simulated logs
PORTAL_KINDS = frozenset({SystemKind.public_service_portal, SystemKind.other})


class NotADemoFolder(Exception):
    pass


def run_demo(args: argparse.Namespace) -> int:
    settings = load_settings(args.config or EXAMPLE_CONFIG)
    language = cli_language(settings.language)
    try:
        directory, temporary = demo_directory(args.data_dir)
    except NotADemoFolder as exc:
        print(printable(f"{message('error', language)}: {message('demo.not_demo_dir', language, directory=exc)}"),
              file=sys.stderr)
        return 2
    try:
        return _run(args, demo_settings(settings, directory), directory, temporary, language)
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)


def _run(args: argparse.Namespace, settings: Settings, directory: Path, temporary: bool, language: str) -> int:
    log_dir = directory / "demo-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    systems = demo_portals(settings)
    portals = [Portal(system.id, log_dir / f"{system.id}.access.log") for system in systems]
    by_id = {portal.system: portal for portal in portals}
    roles = headline_roles(settings, systems)
    simulator = TrafficSimulator(portals, log_dir / "auth.log", rate=args.rate)
    simulator.backfill(minutes=45, flood=True)
    headline = simulator.headline(simulator.clock() - timedelta(seconds=1), breach=by_id[roles["breach"].id],
                                  serious=by_id[roles["serious"].id], critical=by_id[roles["critical"].id])
    auth_owner = roles["breach"]

    def demo_targets(runtime: Runtime) -> list:  # type: ignore[type-arg]
        from canhgac.collectors.lines import Origin

        collection = runtime.collection()
        found = []
        for portal in portals:
            system = runtime.directory.system(portal.system)
            path = str(portal.path.resolve())
            found.append(collection.file_source(Origin(path, path, system.agency, system.id), "nginx"))
        auth = log_dir / "auth.log"
        auth.touch()
        found.append(collection.file_source(Origin(str(auth.resolve()), str(auth.resolve()), auth_owner.agency,
                                                   auth_owner.id), "sshd"))
        return found

    analyst = DemoAnalyst(list(headline.values()), language)
    url = f"http://{args.host}:{args.port}/"
    banner = [message("demo.ready", language, url=url), message("demo.keys", language)]
    banner += [f"    {key:<22} {who}" for key, who in demo_keys(settings, language)]
    banner += [message("demo.data", language, directory=directory)]
    if temporary:
        banner.append(pick("    (thư mục tạm, xóa khi dừng; giữ lại dữ liệu: --data-dir THƯ_MỤC)",
                           "    (a temporary folder, removed on stop; to keep the data: --data-dir FOLDER)", language))
    banner.append(message("demo.stop", language))
    return serve(settings, args.host, args.port, duration=args.duration, extra_targets=demo_targets,
                 background=[lambda runtime, stop: simulator.run(stop, flood_after=40.0), analyst.run],
                 banner=banner)


def demo_directory(chosen: Path | None) -> tuple[Path, bool]:
    """The demo's own folder, and whether it is a temporary one: never ``~/.canhgac`` or ``CANHGAC_HOME``
    unless asked for with ``--data-dir``. A chosen folder must be new, empty or an earlier demo's."""
    if chosen is None:
        directory = Path(tempfile.mkdtemp(prefix="canhgac-demo-"))  # private (0700) and unique
        (directory / MARKER).touch()
        return directory, True
    directory = chosen.expanduser().resolve()
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise NotADemoFolder(str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).touch()
    return directory, False


def demo_settings(settings: Settings, directory: Path) -> Settings:
    """The demo's store and spool live in its folder; it reads only the simulated logs (no configured files, no
    syslog ports); the anomaly windows are short so that a flood is noticed within minutes, not hours."""
    anomaly = settings.detection.anomaly.model_copy(update={"interval_seconds": 20, "window_minutes": 1,
                                                            "min_windows": 30, "history_windows": 120,
                                                            "grace_seconds": 15})
    detection = settings.detection.model_copy(update={"anomaly": anomaly})
    sqlite = settings.store.sqlite.model_copy(update={"path": str(directory / "canhgac.db")})
    store = settings.store.model_copy(update={"kind": "sqlite", "sqlite": sqlite})
    spool = settings.collection.spool.model_copy(update={"directory": str(directory / "spool")})
    collection = settings.collection.model_copy(update={"spool": spool, "syslog": []})
    systems = [system.model_copy(update={"log_sources": [s for s in system.log_sources if s.type == "http"]})
               for system in settings.systems]
    demo = settings.model_copy(update={"detection": detection, "store": store, "collection": collection,
                                       "systems": systems})
    demo._source = settings.source
    return demo


def _current(settings: Settings) -> set[str]:
    """Agencies that exist today (not merged into another, not dissolved)."""
    return {a.id for a in settings.agencies if a.merged_into is None and getattr(a, "dissolved", None) is None}


def demo_portals(settings: Settings) -> list[MonitoredSystem]:
    """The web portals of today's agencies, the most protected first (the flood goes to the first)."""
    current = _current(settings)
    portals = [s for s in settings.systems if s.kind in PORTAL_KINDS and s.agency in current]
    portals = portals or [s for s in settings.systems if s.kind in PORTAL_KINDS]
    return sorted(portals, key=lambda s: -s.security_level)


def headline_roles(settings: Settings, portals: list[MonitoredSystem]) -> dict[str, MonitoredSystem]:
    """Which portal each headline attack goes to: the serious incident needs a system at the serious-incident
    level (Decree 85/2016 level 4 or above); the breach goes to a provincial portal below it, so that the two
    stay apart; the critical one to a third portal when there is one."""
    floor = settings.incidents.serious.min_security_level
    levels = {a.id: a.level for a in settings.agencies}
    keyed = {key.agency for key in settings.api_keys if key.agency}  # a demo key shows these agencies' view

    def first(candidates: list[MonitoredSystem], level: str) -> MonitoredSystem:
        ranked = sorted(candidates, key=lambda s: (levels.get(s.agency) != level, s.agency not in keyed))
        return ranked[0]

    serious = portals[0]
    breach = first([s for s in portals if s.security_level < floor] or portals, "province")
    critical = first([s for s in portals if s.id not in (serious.id, breach.id)] or portals, "commune")
    return {"serious": serious, "breach": breach, "critical": critical}


def demo_keys(settings: Settings, language: str) -> list[tuple[str, str]]:
    """The configured API keys whose secret is their own name (the example's published demo keys), and whom
    each signs in as."""
    names = {a.id: a.name(language) for a in settings.agencies}
    found = []
    for key in settings.api_keys:
        if hashlib.sha256(key.name.encode()).hexdigest() != key.sha256:
            continue
        who = names.get(key.agency or "", "") if key.agency else pick("SOC, mọi cơ quan", "SOC, every agency",
                                                                      language)
        found.append((key.name, f"{who} ({key.role.value})"))
    return found
