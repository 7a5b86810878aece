"""``canhgac dashboards export``: the saved objects (data views, SOC overview dashboard) for Kibana or
OpenSearch Dashboards, as NDJSON to import."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from canhgac.commands import group_help
from canhgac.core.config import load_settings
from canhgac.core.i18n import pick
from canhgac.dashboards.exports import SHIPPED_PREFIX, TARGETS, export

PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _prefix(value: str) -> str:
    if not PREFIX.match(value):
        raise argparse.ArgumentTypeError(pick(
            f"--prefix {value!r} không hợp lệ: chữ thường, chữ số, '-' hoặc '_', tối đa 63 ký tự",
            f"--prefix {value!r} is invalid: lower-case letters, digits, '-' or '_', at most 63 characters"))
    return value


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("bảng điều khiển cho Kibana và OpenSearch Dashboards",
                "dashboards for Kibana and OpenSearch Dashboards")
    cmd = commands.add_parser("dashboards", help=text, description=text)
    group_help(cmd)
    actions = cmd.add_subparsers(dest="action", metavar=pick("VIỆC", "ACTION"))
    text = pick("xuất các đối tượng đã lưu (NDJSON): khung nhìn dữ liệu và bảng tổng quan SOC",
                "export the saved objects (NDJSON): data views and the SOC overview dashboard")
    exporting = actions.add_parser("export", parents=[common], help=text, description=text)
    exporting.add_argument("--target", choices=TARGETS, default="kibana",
                           help=pick("Kibana (mặc định) hay OpenSearch Dashboards", "Kibana (default) or OpenSearch "
                                     "Dashboards"))
    exporting.add_argument("--prefix", type=_prefix, default=None, help=pick(
        "tiền tố tên chỉ mục (mặc định: store.elasticsearch.index_prefix của cấu hình, hoặc canhgac)",
        "index name prefix (default: the configuration's store.elasticsearch.index_prefix, or canhgac)"))
    exporting.add_argument("--output", "-o", type=Path, default=None, help=pick(
        "ghi vào tệp này thay vì in ra", "write to this file instead of printing"))
    exporting.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    prefix = args.prefix
    if prefix is None:
        es = load_settings(args.config).store.elasticsearch
        prefix = es.index_prefix if es is not None else SHIPPED_PREFIX
    text = export(args.target, prefix)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.write_text(text, encoding="utf-8")
    count = text.count("\n")
    print(pick(f"Đã ghi {count} đối tượng vào {args.output}", f"Wrote {count} objects to {args.output}"),
          file=sys.stderr)
    return 0
