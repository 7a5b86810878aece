"""``canhgac sources``: every log source's status — lag, events per second, dead letters, drops, last error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson

from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, number, printable, printable_json

COLUMNS = {
    "vi": ("nguồn", "loại", "cơ quan", "sự kiện", "dòng lỗi", "bị mất", "giờ tương lai", "đến muộn", "trễ (byte)",
           "trễ (giây)", "sự kiện/giây", "lỗi gần nhất"),
    "en": ("source", "kind", "agency", "events", "dead letters", "dropped", "future time", "late", "lag (bytes)",
           "lag (s)", "events/s", "last error"),
}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("trạng thái từng nguồn nhật ký: độ trễ, sự kiện/giây, dòng lỗi, lỗi gần nhất",
                "status of every log source: lag, events/s, dead letters, last error")
    cmd = commands.add_parser("sources", parents=[common], help=text, description=text)
    cmd.add_argument("--format", choices=["table", "jsonl"], default="table")
    cmd.add_argument("--agency", help=pick("chỉ nguồn của cơ quan, đơn vị này và các đơn vị trực thuộc",
                                           "only sources of this agency and the agencies below it"))
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from canhgac.collectors.status import saved_statuses
    from canhgac.core.directory import Directory
    from canhgac.notifications.chat.health import chat_health, health_table
    from canhgac.storage import open_store

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    scope = Directory(settings).subtree(args.agency) if args.agency else None
    store = open_store(settings)
    try:
        statuses = [s for s in saved_statuses(store) if scope is None or s.agency in scope]
        chat = [h for h in chat_health(store) if scope is None or h.agencies & scope]
    finally:
        store.close()
    if args.format == "jsonl":
        for status in statuses:
            sys.stdout.write(printable_json(orjson.dumps(status.doc()).decode()) + "\n")
        for entry in chat:
            doc = {"id": f"slack:{entry.channel}", "kind": "slack", **entry.doc(language)}
            sys.stdout.write(printable_json(orjson.dumps(doc).decode()) + "\n")
        return 0
    if chat:  # the chat outbox: what waits per channel and why (canhgac.notifications.chat.health)
        _print_table(health_table(chat, language))
        if statuses:
            print()
    if not statuses:
        if not chat:
            print(message("none", language), file=sys.stderr)
        return 0
    rows = [COLUMNS[language]]
    for s in statuses:
        rows.append((s.id, s.kind, s.agency or "—", number(s.events, language), number(s.dead_letters, language),
                     number(s.dropped, language), number(s.future_time, language), number(s.late, language),
                     number(s.lag_bytes, language), number(s.lag_seconds, language, 1),
                     number(s.events_per_second, language, 1), (s.last_error or "")[:60]))
    _print_table(rows)
    return 0


def _print_table(rows: Sequence[Sequence[object]]) -> None:
    cells = [tuple(printable(str(cell)) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
