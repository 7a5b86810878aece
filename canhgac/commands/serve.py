"""``canhgac serve`` (API, pages, file tails, scheduled detectors) and ``canhgac demo`` (the same, fed by
a traffic simulator on the embedded store)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from canhgac.core.config import EXAMPLE_CONFIG, Settings, default_config_path, home_dir, load_settings
from canhgac.core.i18n import cli_language
from canhgac.core.text import message, printable

log = logging.getLogger(__name__)
DEMO_KEYS = [("demo-soc-analyst", "SOC"), ("demo-binhdinh", "UBND tỉnh Bình Định"),
             ("demo-quynhon", "UBND thành phố Quy Nhơn")]
DEMO_PORTALS = ["cdvc", "dvc-binhdinh", "cong-quynhon", "dvc-phuyen", "dvc-namdinh"]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    listen = argparse.ArgumentParser(add_help=False)
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8000)
    listen.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    serve = commands.add_parser("serve", parents=[common, listen], help="serve the API and pages, tail logs")
    serve.add_argument("--demo", action="store_true",
                       help="allow the example configuration and its public demo API keys (trying it out only)")
    serve.set_defaults(handler=run_serve)
    demo = commands.add_parser("demo", parents=[common, listen],
                               help="simulated portal traffic with attacks, through the real pipeline")
    demo.add_argument("--rate", type=float, default=2.0, help="citizen requests per second per portal")
    demo.set_defaults(handler=run_demo)


def run_serve(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config is not None else default_config_path()
    if not args.demo and args.config is None and path == EXAMPLE_CONFIG:  # nothing given, nothing in CANHGAC_HOME
        return _refuse(message("serve.no_config", cli_language()))
    settings = load_settings(path)
    language = cli_language(settings.language)
    if not args.demo:
        public = demo_key_names(settings)
        if public:
            return _refuse(message("serve.demo_keys", language, file=path, keys=", ".join(public)), language)
    banner = [message("serve.demo_mode", language)] if args.demo else None
    return serve(settings, args.host, args.port, duration=args.duration, banner=banner)


def demo_key_names(settings: Settings) -> list[str]:
    """The configured API keys whose secret is one of the example's: published in the README, so public."""
    public = {key.sha256 for key in load_settings(EXAMPLE_CONFIG).api_keys}
    return [key.name for key in settings.api_keys if key.sha256 in public]


def _refuse(reason: str, language: str | None = None) -> int:
    print(printable(reason), file=sys.stderr)
    print(message("serve.hint", language or cli_language()), file=sys.stderr)
    return 2


def serve(settings: Settings, host: str, port: int, *, duration: float | None = None,
          extra_targets: Callable[[object], list] | None = None,  # type: ignore[type-arg]
          background: list[Callable[[threading.Event], None]] | None = None, banner: list[str] | None = None) -> int:
    import uvicorn
    from apscheduler.schedulers.background import BackgroundScheduler

    from canhgac.api.app import create_app
    from canhgac.detectors.anomaly import TrafficAnomalyDetector
    from canhgac.detectors.scheduled import schedule_anomaly_job
    from canhgac.runtime import Runtime

    language = cli_language(settings.language)
    runtime = Runtime.build(settings)
    collection = runtime.collection(spool=True)
    stop = threading.Event()
    threads = collection.run(stop, extra_targets(runtime) if extra_targets else [])
    background_threads = [threading.Thread(target=job, args=(stop,), daemon=True) for job in background or []]
    threads += background_threads
    scheduler = BackgroundScheduler(timezone="UTC")
    anomaly = settings.detection.anomaly
    if anomaly.enabled:
        schedule_anomaly_job(scheduler, TrafficAnomalyDetector(runtime.store, anomaly),
                             runtime.pipeline.raise_alerts, anomaly.interval_seconds)
    app = create_app(settings, runtime.store, directory=runtime.directory)
    app.state.collection = collection  # the push endpoints (api/routes/ingest.py) deliver through it
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    if duration is not None:
        threading.Timer(duration, lambda: setattr(server, "should_exit", True)).start()
    for thread in background_threads:
        thread.start()
    scheduler.start()
    url = f"http://{host}:{port}/"
    print(message("serve.ready", language, url=url, store=runtime.store.kind), flush=True)
    for line in banner or []:
        print(line, flush=True)
    try:
        server.run()  # returns on Ctrl-C or SIGTERM (uvicorn shuts down first) or when duration is over
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the signal after its own clean shutdown; ours follows below
    finally:
        stop.set()
        scheduler.shutdown(wait=True)  # a running job still holds the store
        for thread in threads:
            thread.join(timeout=10)
        runtime.close()
        print(message("stopped", language), flush=True)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from canhgac.simulator import Portal, TrafficSimulator

    settings = demo_settings(load_settings(args.config))
    language = cli_language(settings.language)
    home = home_dir()
    log_dir = home / "demo-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    portals = [Portal(system, log_dir / f"{system}.access.log") for system in DEMO_PORTALS
               if system in {s.id for s in settings.systems}]
    simulator = TrafficSimulator(portals, log_dir / "auth.log", rate=args.rate)
    simulator.backfill(minutes=45)

    def demo_targets(runtime) -> list:  # type: ignore[no-untyped-def,type-arg]
        from canhgac.collectors.lines import Origin

        collection = runtime.collection()
        found = []
        for portal in portals:
            system = runtime.directory.system(portal.system)
            path = str(portal.path.resolve())
            found.append(collection.file_source(Origin(path, path, system.agency, system.id), "nginx"))
        auth = str((log_dir / "auth.log").resolve())
        (log_dir / "auth.log").touch()
        found.append(collection.file_source(Origin(auth, auth, "binhdinh", "dvc-binhdinh"), "sshd"))
        return found

    url = f"http://{args.host}:{args.port}/"
    banner = [message("demo.ready", language, url=url), message("demo.keys", language)]
    banner += [f"    {key:<18} {who}" for key, who in DEMO_KEYS]
    banner += [message("demo.home", language, home=home), message("demo.stop", language)]
    return serve(settings, args.host, args.port, duration=args.duration, extra_targets=demo_targets,
                 background=[lambda stop: simulator.run(stop, flood_after=40.0)], banner=banner)


def demo_settings(settings: Settings) -> Settings:
    """The demo shortens the anomaly windows so a flood is noticed within minutes, not hours."""
    anomaly = settings.detection.anomaly.model_copy(update={"interval_seconds": 20, "window_minutes": 1,
                                                            "min_windows": 30, "history_windows": 120,
                                                            "grace_seconds": 15})
    detection = settings.detection.model_copy(update={"anomaly": anomaly})
    demo = settings.model_copy(update={"detection": detection})
    demo._source = settings.source
    return demo
