"""``canhgac store upgrade``: move an embedded store made by an older version into the current layout."""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from canhgac.commands import group_help
from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import number


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("bảo trì kho nhúng (SQLite)", "maintain the embedded store (SQLite)")
    cmd = commands.add_parser("store", help=text, description=text)
    group_help(cmd)
    actions = cmd.add_subparsers(dest="action", metavar=pick("VIỆC", "ACTION"))
    text = pick("chuyển bảng sự kiện của kho do phiên bản cũ tạo sang bố cục hiện hành (dừng canhgac serve trước; "
                "cần chỗ trống bằng kích thước tệp)",
                "move the events of a store an older version made into the current layout (stop canhgac serve "
                "first; needs free space the size of the file)")
    upgrade = actions.add_parser("upgrade", parents=[common], help=text, description=text)
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    from canhgac.storage import open_store
    from canhgac.storage.sqlite import SqliteStore

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    store = open_store(settings)
    try:
        if not isinstance(store, SqliteStore):
            print(pick("Kho Elasticsearch không cần nâng cấp: chỉ kho nhúng (SQLite) có bố cục cũ.",
                       "An Elasticsearch store needs no upgrade: only the embedded store (SQLite) has older layouts.",
                       language))
            return 0
        size = store.path.stat().st_size
        free = shutil.disk_usage(store.path.parent).free
        if free < size:
            print(pick(f"Lỗi: cần {number(size, language)} byte trống cạnh {store.path}, chỉ còn "
                       f"{number(free, language)}: bảng sự kiện được chép sang bảng mới trước khi bảng cũ bị xóa.",
                       f"Error: {number(size, language)} bytes must be free beside {store.path}, only "
                       f"{number(free, language)} are: the events are copied into a new table before the old one "
                       "is dropped.", language), file=sys.stderr)
            return 1
        started = time.monotonic()
        moved = store.upgrade_events()
        seconds = time.monotonic() - started
    finally:
        store.close()
    if moved is None:
        print(pick(f"{store.path} đã ở bố cục hiện hành: không có gì phải làm.",
                   f"{store.path} already has the current layout: nothing to do.", language))
    else:
        count, took = number(moved, language), number(seconds, language, 1)
        print(pick(f"Đã chuyển {count} sự kiện sang bố cục hiện hành trong {took} giây.",
                   f"Moved {count} events into the current layout in {took} s.", language))
    return 0
