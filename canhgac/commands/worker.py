"""``canhgac worker``: own partitions of the bus and run parsing, detection, grouping and storage on them."""

from __future__ import annotations

import argparse
import re
import sys

from canhgac.core.config import load_settings
from canhgac.core.config_cluster import WORKER_ID_PATTERN
from canhgac.core.i18n import cli_language, pick
from canhgac.roles.metrics import add_metrics_port
from canhgac.roles.stopping import add_duration, stop_event

WORKER_ID = re.compile(WORKER_ID_PATTERN)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("xử lý trong cụm: nhận các phân vùng của luồng, phân tích, phát hiện, gom sự cố và lưu",
                "work in the cluster: own partitions of the bus, parse, detect, group into incidents and store")
    cmd = commands.add_parser("worker", parents=[common], help=text, description=text)
    cmd.add_argument("--id", default=None, help=pick("tên của worker này trong bảng thuê phân vùng (mặc định: máy-pid)",
                                                     "this worker's name in the partition leases (default: host-pid)"))
    add_duration(cmd)
    add_metrics_port(cmd)
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from canhgac.roles.bus import open_bus
    from canhgac.roles.metrics import serve_role_metrics
    from canhgac.roles.worker import Worker
    from canhgac.runtime import Runtime

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    if args.id is not None and not WORKER_ID.fullmatch(args.id):
        print(pick(f"Lỗi: --id {args.id!r} chỉ được gồm chữ Latin không dấu, chữ số, '-' và '_' (1–64 ký tự)",
                   f"Error: --id {args.id!r} may hold only ASCII letters, digits, '-' and '_' (1–64 characters)",
                   language), file=sys.stderr)
        return 2
    stop = stop_event(args.duration)
    words = {"take": pick("nhận phân vùng", "took partition", language),
             "give": pick("trả phân vùng", "gave back partition", language),
             "lost": pick("mất phân vùng", "lost partition", language)}

    def say(what: str, partition: int) -> None:
        print(f"{words[what]} {partition}", flush=True)

    bus = open_bus(settings)
    runtime = Runtime.build(settings)
    try:
        worker = Worker(settings, bus, worker_id=args.id, runtime=runtime, say=say)
        config = settings.cluster.bus
        assert config is not None
        print(pick(f"Worker {worker.id}: nhóm {config.group}, luồng {config.stream}, {config.partitions} phân vùng",
                   f"Worker {worker.id}: group {config.group}, stream {config.stream}, {config.partitions} "
                   "partitions", language), flush=True)
        stop_metrics = serve_role_metrics(settings, args.metrics_port, worker.metrics.registry, language)
        try:
            worker.run(stop)
        finally:
            stop_metrics()
    finally:
        runtime.close()
        bus.close()
    print(pick("Đã dừng", "Stopped", language), flush=True)
    return 0
