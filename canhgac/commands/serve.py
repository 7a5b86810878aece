"""``canhgac serve``: the API, the pages, tails of the configured log files and the scheduled detectors; it says
what it loaded. ``canhgac demo`` (``canhgac/demo.py``) runs the same, fed by a traffic simulator."""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import multiprocessing
import multiprocessing.process
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from canhgac.core.config import EXAMPLE_CONFIG, Settings, default_config_path, load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable

if TYPE_CHECKING:
    from canhgac.runtime import Runtime

log = logging.getLogger(__name__)
MAX_WORKERS = 32
#: A job run beside the server until ``stop`` is set (the demo's simulator and scenario).
BackgroundJob = Callable[["Runtime", threading.Event], None]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    listen = argparse.ArgumentParser(add_help=False)
    listen.add_argument("--host", default="127.0.0.1",
                        help=pick("địa chỉ lắng nghe (mặc định 127.0.0.1)", "address to listen on (default 127.0.0.1)"))
    listen.add_argument("--port", type=int, default=8000, help=pick("cổng (mặc định 8000)", "port (default 8000)"))
    listen.add_argument("--duration", type=float, default=None,
                        help=pick("dừng sau bấy nhiêu giây", "stop after this many seconds"))
    text = pick("phục vụ API và trang web, theo dõi các tệp nhật ký đã cấu hình",
                "serve the API and pages, tail the configured log files")
    serve_cmd = commands.add_parser("serve", parents=[common, listen], help=text, description=text)
    serve_cmd.add_argument("--demo", action="store_true", help=pick(
        "cho phép cấu hình ví dụ và các khóa API thử nghiệm công khai của nó (chỉ để chạy thử)",
        "allow the example configuration and its public demo API keys (trying it out only)"))
    serve_cmd.add_argument("--workers", type=int, default=1, help=pick(
        "số tiến trình trả lời API (mặc định 1); thu thập, phát hiện theo lịch chỉ chạy ở tiến trình đầu",
        "processes answering the API (default 1); collection and scheduled detection run in the first one only"))
    serve_cmd.add_argument("--api-only", action="store_true", help=pick(
        "chỉ API và trang web, không thu thập, không phát hiện theo lịch (nút API của cụm, sau bộ cân bằng tải)",
        "the API and pages only: no collection, no scheduled detection (an API node of a cluster, behind a load "
        "balancer)"))
    serve_cmd.set_defaults(handler=run_serve)
    text = pick("chạy thử: lưu lượng cổng dịch vụ công mô phỏng kèm tấn công, qua toàn bộ quy trình thật, dữ liệu "
                "trong thư mục riêng", "simulated portal traffic with attacks through the real pipeline, its data "
                "in a folder of its own")
    demo = commands.add_parser("demo", parents=[common, listen], help=text, description=text)
    demo.add_argument("--rate", type=float, default=2.0, help=pick("số lượt truy cập của người dân mỗi giây, mỗi cổng",
                                                                   "citizen requests per second per portal"))
    demo.add_argument("--data-dir", type=Path, default=None, help=pick(
        "thư mục dữ liệu chạy thử, giữ lại sau khi dừng (mặc định: một thư mục tạm mới, xóa khi dừng)",
        "the demo's data folder, kept after it stops (default: a new temporary folder, removed on stop)"))
    demo.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from canhgac.demo import run_demo

    return run_demo(args)


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
    if args.api_only:
        banner = [*(banner or []), pick("Chỉ API và trang web: không thu thập, không phát hiện theo lịch",
                                        "API and pages only: no collection, no scheduled detection", language)]
    if not 1 <= args.workers <= MAX_WORKERS:
        return _refuse(pick(f"--workers phải từ 1 đến {MAX_WORKERS}", f"--workers must be 1 to {MAX_WORKERS}",
                            language), language)
    return serve(settings, args.host, args.port, duration=args.duration, banner=banner, workers=args.workers,
                 api_only=args.api_only)


def demo_key_names(settings: Settings) -> list[str]:
    """The configured API keys whose secret is one of the example's: published in the README, so public."""
    public = {key.sha256 for key in load_settings(EXAMPLE_CONFIG).api_keys}
    return [key.name for key in settings.api_keys if key.sha256 in public]


def _refuse(reason: str, language: str | None = None) -> int:
    print(printable(reason), file=sys.stderr)
    print(message("serve.hint", language or cli_language()), file=sys.stderr)
    return 2


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound here so that a port in use is a sentence, not uvicorn's exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio sets TCP_NODELAY only on sockets that name it, and without it every
    # answer on a kept-alive connection waited 40 ms for a delayed ACK (docs/decisions/0038).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _cannot_listen(exc: OSError, host: str, port: int, language: str) -> int:
    if exc.errno == errno.EADDRINUSE:
        text = message("serve.port_taken", language, host=host, port=port, other=port + 1)
    else:
        text = message("serve.cannot_listen", language, host=host, port=port, reason=exc.strerror or exc)
    print(printable(f"{message('error', language)}: {text}"), file=sys.stderr)
    return 2


def serve(settings: Settings, host: str, port: int, *, duration: float | None = None,
          extra_targets: Callable[[Runtime], list] | None = None,  # type: ignore[type-arg]
          background: list[BackgroundJob] | None = None, banner: list[str] | None = None, workers: int = 1,
          api_only: bool = False) -> int:
    """``workers`` > 1: as many processes answer the API on the same socket; this one also collects, detects on
    schedule and runs the background jobs, and the others relay log pushes to it (docs/decisions/0038).
    ``api_only``: none of that, the API and pages over the store only (docs/decisions/0047)."""
    import uvicorn
    from apscheduler.schedulers.background import BackgroundScheduler

    from canhgac.api.app import create_app
    from canhgac.detectors.anomaly import TrafficAnomalyDetector
    from canhgac.detectors.behaviour import BehaviourDetector
    from canhgac.detectors.scheduled import schedule_anomaly_job, schedule_detector_job
    from canhgac.notifications.escalation.scheduled import schedule_escalation_job
    from canhgac.runtime import Runtime

    language = cli_language(settings.language)
    stop_asked = hold_stop_signals()
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        return _cannot_listen(exc, host, port, language)
    if api_only:  # the workers apply retention, once
        settings = settings.model_copy(update={"store": settings.store.model_copy(update={"retention_days": None})})
    runtime = Runtime.build(settings)
    collection = runtime.collection(spool=not api_only)
    stop = threading.Event()
    try:
        threads = [] if api_only else collection.run(stop, extra_targets(runtime) if extra_targets else [])
    except OSError as exc:  # a syslog listener's port
        stop.set()
        sock.close()
        runtime.close()
        print(printable(f"{message('error', language)}: {message('serve.syslog_failed', language, reason=exc)}"),
              file=sys.stderr)
        return 2
    background_threads = [threading.Thread(target=job, args=(runtime, stop), daemon=True) for job in background or []]
    threads += background_threads
    scheduler = BackgroundScheduler(timezone="UTC")
    anomaly = settings.detection.anomaly
    if anomaly.enabled and not api_only:
        schedule_anomaly_job(scheduler, TrafficAnomalyDetector(runtime.store, anomaly),
                             runtime.pipeline.raise_alerts, anomaly.interval_seconds)
    behaviour = settings.detection.behaviour
    if behaviour.enabled and not api_only:
        schedule_detector_job(scheduler, "behaviour", BehaviourDetector(runtime.store, behaviour).run,
                              runtime.pipeline.raise_alerts, behaviour.interval_seconds)
    if not api_only:
        schedule_escalation_job(scheduler, runtime.store, settings, runtime.directory)  # on-call chain, every minute
    shared_metrics = _share_metrics() if workers > 1 else None  # before any request counter is made
    app = create_app(settings, runtime.store, directory=runtime.directory)
    # the push endpoints (api/routes/ingest.py) deliver through it; an API-only node takes no pushes
    app.state.collection = None if api_only else collection
    app.state.ingest_totals = None if api_only else runtime.pipeline.totals  # on GET /metrics
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    sockets = [sock]
    helpers: list[multiprocessing.process.BaseProcess] = []
    if workers > 1:
        relay = listening_socket("127.0.0.1", 0)  # where the other workers send log pushes
        sockets.append(relay)
        helpers = start_api_workers(settings, sock, workers - 1, relay.getsockname()[1])
    if duration is not None:
        timer = threading.Timer(duration, lambda: setattr(server, "should_exit", True))
        timer.daemon = True  # a stop before the duration is over must not wait for it
        timer.start()
    for thread in background_threads:
        thread.start()
    scheduler.start()
    url = f"http://{host}:{port}/"
    print(message("serve.ready", language, url=url, store=runtime.store.kind), flush=True)
    for line in loaded_summary(runtime, language) + (banner or []):
        print(printable(line), flush=True)
    try:
        stop_on_sigterm()
        gc.freeze()  # what start-up built lives as long as the process: full collections need not walk it
        if not stop_asked.is_set():  # a stop asked while starting: straight to the shutdown
            server.run(sockets=sockets)  # returns on Ctrl-C or SIGTERM (uvicorn shuts down first) or duration over
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the signal after its own clean shutdown; ours follows below
    finally:
        hold_stop_signals()  # a second SIGTERM must not cut the shutdown short (systemd sends SIGKILL if it lasts)
        stop_api_workers(helpers)
        stop.set()
        scheduler.shutdown(wait=True)  # a running job still holds the store
        for thread in threads:
            thread.join(timeout=10)
        runtime.close()
        for listening in sockets:
            listening.close()
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)
        print(message("stopped", language), flush=True)
    return 0


def hold_stop_signals() -> threading.Event:
    """SIGTERM and SIGINT only noted from now on (set on the event): a stop asked while the server starts or
    shuts down waits for that to finish instead of killing the process half-way (exit 143, state unsaved)."""
    asked = threading.Event()

    def note(signum: int, frame: object) -> None:
        asked.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, note)
    return asked


def stop_on_sigterm() -> None:
    """After its clean shutdown uvicorn raises the signal again; with this handler SIGTERM then ends like Ctrl-C,
    so the ``finally`` blocks run (workers stopped, store closed) instead of the process dying on the spot."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _share_metrics() -> Path:
    """The request counts of every worker process, summed wherever /metrics is asked (a fresh directory per run:
    files left by an earlier one would add its counts)."""
    from canhgac.core.metrics import share_between_processes

    directory = Path(tempfile.mkdtemp(prefix="canhgac-metrics-"))
    share_between_processes(directory)
    return directory


def start_api_workers(settings: Settings, sock: socket.socket, count: int,
                      relay_port: int) -> list[multiprocessing.process.BaseProcess]:
    """``count`` processes serving the API on ``sock`` (spawned: nothing of this process's threads comes along)."""
    context = multiprocessing.get_context("spawn")
    helpers = [context.Process(target=api_worker, args=(settings, sock, relay_port), name=f"canhgac-api-{n + 2}",
                               daemon=True) for n in range(count)]
    for helper in helpers:
        helper.start()
    return helpers


def stop_api_workers(helpers: list[multiprocessing.process.BaseProcess]) -> None:
    for helper in helpers:
        if helper.is_alive():
            helper.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for helper in helpers:
        helper.join(timeout=15)
        if helper.is_alive():
            helper.kill()
            helper.join(timeout=5)


def api_worker(settings: Settings, sock: socket.socket, relay_port: int) -> None:
    """One API-only worker: its own store connection and caches; no collectors, schedules or retention runs."""
    import uvicorn

    from canhgac.api.app import create_app
    from canhgac.storage import open_store

    store = open_store(settings.model_copy(update={"store": settings.store.model_copy(
        update={"retention_days": None})}))  # the first process applies retention, once
    app = create_app(settings, store, ingest_relay_port=relay_port)
    try:
        stop_on_sigterm()
        gc.freeze()
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


def loaded_summary(runtime: Runtime, language: str) -> list[str]:
    """What the server runs with: rules loaded and failed, files tailed, listeners, Slack on or off."""
    settings = runtime.settings
    lines = [message("serve.rules", language, loaded=runtime.rule_count, failed=len(runtime.rule_errors))]
    lines += [message("serve.rule_error", language, error=error) for error in runtime.rule_errors]
    collection = runtime.collection()
    tailed = sorted(status.path or status.id for status in collection.board.snapshot() if status.kind == "file")
    if tailed:
        lines.append(message("serve.tailing", language, count=len(tailed)))
        lines += [f"    {path}" for path in tailed]
    else:
        lines.append(message("serve.no_tails", language))
    if settings.collection.syslog:
        lines.append(message("serve.syslog", language, listeners=", ".join(
            f"{listener.name} ({listener.host}"
            + (f", UDP {listener.udp_port}" if listener.udp_port else "")
            + (f", TCP {listener.tcp_port}" if listener.tcp_port else "")
            + (f", RELP {listener.relp_port}" if listener.relp_port else "") + ")"
            for listener in settings.collection.syslog)))
    pushed = collection.http_sources()
    if pushed:
        lines.append(message("serve.push", language, names=", ".join(f"{source.name} ({system.id})"
                                                                       for system, source in pushed)))
    lines.append(_slack_line(settings, language))
    return lines


def _slack_line(settings: Settings, language: str) -> str:
    slack = settings.notifications.slack
    if slack is None or not settings.notifications.routes:
        return message("serve.slack_off", language, reason=pick("chưa cấu hình tuyến thông báo Slack",
                                                                "no Slack routes configured", language))
    if not os.environ.get(slack.token_env):
        return message("serve.slack_off", language, reason=pick(
            f"biến môi trường {slack.token_env} chưa đặt", f"environment variable {slack.token_env} is not set",
            language))
    return message("serve.slack_on", language, routes=len(settings.notifications.routes))
