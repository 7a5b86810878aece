"""``canhgac events|alerts|incidents|dead-letters``: what is stored, as JSON lines or a table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import orjson

from canhgac.commands.options import CommaList, time_point
from canhgac.core.config import load_settings
from canhgac.core.directory import Directory
from canhgac.core.i18n import cli_language, pick, term
from canhgac.core.model import Incident, IncidentState, Severity
from canhgac.core.text import message, printable, printable_json
from canhgac.core.timeutil import local_display

PAGE = 1000


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    scoped = argparse.ArgumentParser(add_help=False)
    scoped.add_argument("--format", choices=["jsonl", "table"], default="table",
                        help=pick("jsonl: mỗi dòng một bản ghi JSON; table: bảng để đọc (mặc định)",
                                  "jsonl: one JSON record a line; table: for reading (default)"))
    scoped.add_argument("--agency", help=pick("chỉ cơ quan, đơn vị này và các đơn vị trực thuộc",
                                              "only this agency and the agencies below it"))
    scoped.add_argument("--limit", type=int, default=None,
                        help=pick("nhiều nhất bấy nhiêu bản ghi (mặc định: tất cả)",
                                  "at most this many (default: all)"))
    since = pick("từ thời điểm này: 30m, 24h, 7d trước, hoặc giờ ISO (2026-11-22T08:00; không ghi múi giờ là giờ "
                 "Việt Nam)", "from this moment: 30m, 24h, 7d ago, or an ISO time (2026-11-22T08:00; without a zone, "
                 "Vietnam's time)")
    until = pick("trước thời điểm này (cùng cách viết như --since)", "before this moment (written like --since)")
    for name, handler, text in (
            ("events", _events, pick("xuất các sự kiện đã lưu", "export stored events")),
            ("alerts", _alerts, pick("xuất các cảnh báo đã lưu", "export stored alerts")),
            ("incidents", _incidents, pick("liệt kê sự cố (lọc theo trạng thái, mức độ, thời gian)",
                                           "list incidents (by state, severity, time)")),
            ("dead-letters", _dead_letters, pick("xuất các dòng không phân tích được",
                                                 "export lines that could not be parsed"))):
        cmd = commands.add_parser(name, parents=[common, scoped], help=text, description=text)
        cmd.set_defaults(handler=handler)
        if name != "dead-letters":
            cmd.add_argument("--since", type=time_point, help=since)
            cmd.add_argument("--until", type=time_point, help=until)
        if name == "alerts":
            cmd.add_argument("--min-severity", choices=[s.value for s in Severity],
                             help=pick("mức độ thấp nhất", "the lowest severity shown"))
        if name == "incidents":
            cmd.add_argument("--state", action=CommaList, allowed=[s.value for s in IncidentState],
                             help=pick("chỉ các trạng thái này (lặp lại hoặc cách nhau bởi dấu phẩy)",
                                       "only these states (repeat, or separate with commas)"))
            cmd.add_argument("--severity", action=CommaList, allowed=[s.value for s in Severity],
                             help=pick("chỉ các mức độ này (lặp lại hoặc cách nhau bởi dấu phẩy)",
                                       "only these severities (repeat, or separate with commas)"))


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from canhgac.storage import open_store

    settings = load_settings(args.config)
    directory = Directory(settings)
    scope = directory.subtree(args.agency) if args.agency else None
    return settings, directory, open_store(settings), scope


def _emit(rows: Iterator[dict], args: argparse.Namespace, columns: list[str], language: str) -> int:  # type: ignore[type-arg]
    out = sys.stdout
    count = 0
    for row in rows:
        if args.limit is not None and count >= args.limit:
            break
        count += 1
        if args.format == "jsonl":
            out.write(printable_json(orjson.dumps(row).decode()) + "\n")
        else:
            out.write("  ".join(_cell(row.get(c)) for c in columns) + "\n")
    if count == 0 and args.format == "table":
        print(message("none", language), file=sys.stderr)
    return 0


def _cell(value: object) -> str:
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value.endswith("Z"):
        try:
            return local_display(datetime.fromisoformat(value))
        except ValueError:
            pass
    text = "" if value is None else printable(str(value))
    return text if len(text) <= 80 else text[:77] + "…"


def _events(args: argparse.Namespace) -> int:
    from canhgac.storage.base import EventCursor, EventQuery

    settings, _, store, scope = _open(args)

    def rows() -> Iterator[dict]:  # type: ignore[type-arg]
        query = EventQuery(agencies=scope, start=args.since, end=args.until, limit=PAGE, newest_first=False)
        while page := store.search_events(query):
            yield from page
            query = replace(query, after=EventCursor.of(page[-1]))

    return _emit(rows(), args, ["@timestamp", "organization.id", "source.ip", "event.original"],
                 cli_language(settings.language))


def _alerts(args: argparse.Namespace) -> int:
    from canhgac.storage.base import AlertCursor, AlertQuery

    settings, _, store, scope = _open(args)
    floor = Severity(args.min_severity) if args.min_severity else None

    def rows() -> Iterator[dict]:  # type: ignore[type-arg]
        query = AlertQuery(agencies=scope, start=args.since, end=args.until, min_severity=floor, limit=PAGE)
        while page := store.search_alerts(query):
            yield from (a.to_doc() for a in page)
            query = replace(query, after=AlertCursor.of(page[-1]))

    return _emit(rows(), args, ["last_seen", "severity", "agency", "rule_title", "entities"],
                 cli_language(settings.language))


def _incidents(args: argparse.Namespace) -> int:
    from canhgac.storage.base import IncidentCursor, IncidentQuery

    settings, directory, store, scope = _open(args)
    language = cli_language(settings.language)
    states = frozenset(IncidentState(s) for s in args.state) if args.state else None
    severities = frozenset(Severity(s) for s in args.severity) if args.severity else None

    def found() -> Iterator[Incident]:
        query = IncidentQuery(agencies=scope, states=states, severities=severities, start=args.since,
                              end=args.until, limit=min(args.limit or PAGE, PAGE))
        while page := store.search_incidents(query):
            yield from page
            if len(page) < query.limit:
                return
            query = replace(query, after=IncidentCursor.of(page[-1], query.sort))

    def rows() -> Iterator[dict]:  # type: ignore[type-arg]
        for incident in found():
            doc = incident.to_doc()
            if args.format == "table":
                doc["severity"] = term(f"severity.{incident.severity.value}", language)
                doc["state"] = term(f"state.{incident.state.value}", language)
                if language == "en" and incident.title_en:
                    doc["title"] = incident.title_en
                doc["agency"] = directory.agencies[incident.agency].name(language) \
                    if incident.agency in directory.agencies else incident.agency
            yield doc

    return _emit(rows(), args, ["id", "severity", "state", "agency", "alert_count", "last_seen", "title"],
                 language)


def _dead_letters(args: argparse.Namespace) -> int:
    settings, _, store, scope = _open(args)
    letters = store.search_dead_letters(agencies=scope, limit=args.limit or 10_000)
    return _emit((d.to_doc() for d in letters), args, ["received", "path", "offset", "reason", "raw"],
                 cli_language(settings.language))
