"""``canhgac collect``: tail the configured log files and publish their lines to the bus (a province's edge)."""

from __future__ import annotations

import argparse
import sys

from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable
from canhgac.roles.stopping import add_duration, stop_event


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("thu thập ở biên: theo dõi các tệp nhật ký đã cấu hình, gửi từng lô dòng thô lên luồng NATS JetStream",
                "collect at the edge: tail the configured log files, publish raw line batches to NATS JetStream")
    cmd = commands.add_parser("collect", parents=[common], help=text, description=text)
    add_duration(cmd)
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from canhgac.roles.bus import open_bus
    from canhgac.roles.collect import Collector
    from canhgac.storage import open_store

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    stop = stop_event(args.duration)
    bus = open_bus(settings)
    store = open_store(settings)
    collector = Collector(settings, bus, store)
    try:
        try:
            threads = collector.start(stop)
        except OSError as exc:  # a syslog listener's port
            print(printable(f"{message('error', language)}: {message('serve.syslog_failed', language, reason=exc)}"),
                  file=sys.stderr)
            return 2
        config = settings.cluster.bus
        assert config is not None
        print(pick(f"Đang thu thập {collector.file_count} tệp → luồng {config.stream} ({config.partitions} phân vùng)",
                   f"Collecting {collector.file_count} files → stream {config.stream} ({config.partitions} "
                   "partitions)", language), flush=True)
        if collector.skipped:
            print(pick(f"Lưu ý: {collector.skipped} nguồn HTTP push không đi qua luồng (chúng đến qua API); hãy "
                       "nhận chúng bằng canhgac serve",
                       f"Note: {collector.skipped} HTTP push source(s) do not go over the bus (they arrive through "
                       "the API); receive them with canhgac serve", language), flush=True)
        stop.wait()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        stop.set()
        collector.close()
        store.close()
        bus.close()
    published = collector.publisher
    print(pick(f"Đã dừng: {published.batches} lô, {published.lines} dòng đã gửi",
               f"Stopped: {published.batches} batches, {published.lines} lines published", language), flush=True)
    return 0
