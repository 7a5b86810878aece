"""``--metrics-port`` of ``collect`` and ``worker``: their Prometheus registry over HTTP (docs/decisions/0049)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from canhgac.core.config import Settings
from canhgac.core.i18n import pick
from canhgac.core.metrics import CollectorMetrics, serve_registry
from canhgac.core.text import printable

if TYPE_CHECKING:
    from canhgac.roles.collect import Collector


def add_metrics_port(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--metrics-port", type=_port, default=None, metavar="N",
                     help=pick("cổng HTTP phục vụ số đo Prometheus (/metrics) trên cluster.metrics.host "
                               "(mặc định: cluster.metrics.port; không có: không phục vụ)",
                               "HTTP port serving Prometheus metrics (/metrics) on cluster.metrics.host "
                               "(default: cluster.metrics.port; none: not served)"))


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(pick(f"{text!r}: cổng phải từ 1 đến 65535", f"{text!r}: a port is 1–65535"))
    return int(text)


def serve_role_metrics(settings: Settings, port: int | None, registry: CollectorRegistry,
                       language: str | None = None) -> Callable[[], None]:
    """Serves ``registry`` on ``--metrics-port`` or ``cluster.metrics.port`` (neither: not at all); returns what
    stops it. A port that cannot be opened is said, and the role exits (2) before it starts."""
    config = settings.cluster.metrics
    chosen = port if port is not None else config.port
    if chosen is None:
        return lambda: None
    try:
        stop = serve_registry(registry, config.host, chosen)
    except OSError as exc:
        print(printable(pick(f"Lỗi: không mở được cổng số đo {config.host}:{chosen}: {exc}",
                             f"Error: cannot open the metrics port {config.host}:{chosen}: {exc}", language)),
              file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    print(pick(f"Số đo Prometheus: http://{config.host}:{chosen}/metrics",
               f"Prometheus metrics: http://{config.host}:{chosen}/metrics", language), flush=True)
    return stop


def watch_collector(collector: Collector, metrics: CollectorMetrics) -> None:
    """What reached the stream, counted by the publisher; what was read, from the status board when scraped."""
    collector.publisher.metrics = metrics
    metrics.watch_sources(collector.collection.board.snapshot)
