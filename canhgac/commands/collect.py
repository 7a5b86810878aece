"""``canhgac collect``: tail the configured log files, listen for syslog and HTTP pushes, and publish their lines to
the bus (a province's edge)."""

from __future__ import annotations

import argparse
import sys

from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable
from canhgac.roles.metrics import add_metrics_port
from canhgac.roles.stopping import add_duration, stop_event


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("thu thập ở biên: theo dõi các tệp nhật ký, nghe syslog và HTTP push đã cấu hình, gửi từng lô dòng "
                "thô lên luồng NATS JetStream",
                "collect at the edge: tail the configured log files, listen for syslog and HTTP pushes, publish raw "
                "line batches to NATS JetStream")
    cmd = commands.add_parser("collect", parents=[common], help=text, description=text)
    cmd.add_argument("--host", default="127.0.0.1", help=pick(
        "địa chỉ nhận HTTP push (mặc định 127.0.0.1; 0.0.0.0 để nhận từ máy khác)",
        "address for HTTP pushes (default 127.0.0.1; 0.0.0.0 to take them from other machines)"))
    cmd.add_argument("--port", type=int, default=8000, help=pick("cổng HTTP push (mặc định 8000)",
                                                                 "HTTP push port (default 8000)"))
    add_duration(cmd)
    add_metrics_port(cmd)
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from canhgac.commands.serve import _cannot_listen, listening_socket
    from canhgac.core.metrics import CollectorMetrics
    from canhgac.roles.bus import open_bus
    from canhgac.roles.collect import Collector
    from canhgac.roles.metrics import serve_role_metrics, watch_collector
    from canhgac.storage import open_store

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    stop = stop_event(args.duration)
    metrics = CollectorMetrics()
    stop_metrics = serve_role_metrics(settings, args.metrics_port, metrics.registry, language)
    bus = open_bus(settings)
    store = open_store(settings)
    collector = Collector(settings, bus, store)
    watch_collector(collector, metrics)
    try:
        sock = None
        if collector.push_count:
            try:
                sock = listening_socket(args.host, args.port)
            except OSError as exc:
                return _cannot_listen(exc, args.host, args.port, language)
        try:
            threads = collector.start(stop, sock)
        except OSError as exc:  # a syslog listener's port
            print(printable(f"{message('error', language)}: {message('serve.syslog_failed', language, reason=exc)}"),
                  file=sys.stderr)
            return 2
        config = settings.cluster.bus
        assert config is not None
        print(pick(f"Đang thu thập {collector.file_count} tệp → luồng {config.stream} ({config.partitions} phân vùng)",
                   f"Collecting {collector.file_count} files → stream {config.stream} ({config.partitions} "
                   "partitions)", language), flush=True)
        if sock is not None:
            url = f"http://{args.host}:{args.port}/api/v1/ingest"
            print(pick(f"Nhận HTTP push của {collector.push_count} nguồn tại {url} (và {url}/es/_bulk)",
                       f"Taking HTTP pushes for {collector.push_count} source(s) at {url} (and {url}/es/_bulk)",
                       language), flush=True)
        stop.wait()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        stop.set()
        collector.close()
        store.close()
        bus.close()
        stop_metrics()
    published = collector.publisher
    print(pick(f"Đã dừng: {published.batches} lô, {published.lines} dòng đã gửi",
               f"Stopped: {published.batches} batches, {published.lines} lines published", language), flush=True)
    return 0
