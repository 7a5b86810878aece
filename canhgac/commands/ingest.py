"""``canhgac ingest PATH... --source FORMAT``: the full pipeline over files, with a summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, number, printable, printable_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    from canhgac.collectors.parsers import known_formats

    text = pick("chạy toàn bộ quy trình (phân tích, phát hiện, sự cố) trên các tệp nhật ký",
                "run the full pipeline (parsing, detection, incidents) on log files")
    cmd = commands.add_parser("ingest", parents=[common], help=text, description=text)
    cmd.add_argument("paths", nargs="+", type=Path, metavar=pick("TỆP", "PATH"),
                     help=pick("tệp nhật ký (đọc được cả .gz)", "log files (.gz is read too)"))
    cmd.add_argument("--source", required=True, metavar=pick("ĐỊNH_DẠNG", "FORMAT"),
                     help=pick(f"định dạng nhật ký: {', '.join(known_formats())}, hoặc một tên trong "
                               "collection.json_mappings",
                               f"log format: {', '.join(known_formats())}, or a collection.json_mappings name"))
    cmd.add_argument("--agency", help=pick("mã cơ quan, đơn vị sở hữu các dòng", "agency id the lines belong to"))
    cmd.add_argument("--system", help=pick("mã hệ thống thông tin sinh ra các dòng",
                                           "monitored system id the lines come from"))
    cmd.add_argument("--timezone", help=pick("múi giờ của các thời điểm không ghi múi giờ (mặc định: của cấu hình)",
                                             "zone of zone-less times in these files (default: the configuration's)"))
    cmd.add_argument("--stream", help=pick(
        "tệp đang ghi mà các dòng thuộc về, để tính mã sự kiện (mặc định: chính tệp, hoặc tệp gốc của bản xoay "
        "vòng như access.log.2.gz)",
        "the live file these lines belong to, for event ids (default: the file itself, or its live file for a "
        "rotated copy such as access.log.2.gz)"))
    cmd.add_argument("--resume", action="store_true", help=pick(
        "tiếp tục sau lô cuối cùng mà lần chạy trước (bị ngắt) đã lưu",
        "continue after the last batch an earlier, interrupted run of these files committed"))
    cmd.add_argument("--batch-size", type=int, default=5000, help=pick("số dòng mỗi lô", "lines per batch"))
    cmd.add_argument("--json", action="store_true", help=pick("in bản tóm tắt dạng JSON", "print the summary as JSON"))
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from canhgac.runtime import Runtime, ingest_files

    settings = load_settings(args.config)
    language = cli_language(settings.language)
    for path in args.paths:
        if not path.is_file():
            print(printable(f"{message('error', language)}: {message('ingest.not_file', language, path=path)}"),
                  file=sys.stderr)
            return 2
    runtime = Runtime.build(settings)
    try:
        progress = _progress_bar(sum(p.stat().st_size for p in args.paths)) if sys.stderr.isatty() else None
        runtime.collection().parser(args.source)  # an unknown format fails before anything is read
        report = ingest_files(runtime, args.paths, args.source, agency=args.agency, system=args.system,
                              batch_lines=args.batch_size, progress=progress.update if progress else None,
                              resume=args.resume, stream=args.stream, timezone=args.timezone)
        if progress is not None:
            progress.close()
        for error in runtime.rule_errors:
            print(printable(f"warning: {error}"), file=sys.stderr)
        if report.decode.dead_letters:
            _hint_format(runtime, args.paths, args.source, language)
    finally:
        runtime.close()
    summary = {
        "files": report.files, "lines": report.decode.lines, "events": report.decode.events,
        "events_stored": report.events_stored, "dead_letters": report.decode.dead_letters,
        "dead_letters_stored": report.dead_letters, "flagged": report.decode.flagged,
        "alerts": report.alerts, "incidents_created": report.incidents_created,
        "incidents_updated": report.incidents_updated, "seconds": round(report.seconds, 3),
        "events_per_second": round(report.events_per_second, 1),
        "rules_loaded": runtime.rule_count, "rules_failed": len(runtime.rule_errors),
    }
    if args.json:
        print(printable_json(json.dumps(summary, ensure_ascii=False)))
    else:
        _print_summary(summary, language)
    return 0


def _print_summary(s: dict, language: str) -> None:  # type: ignore[type-arg]
    def n(value: float) -> str:
        return number(value, language)

    print(message("ingest.header", language, files=s["files"], lines=n(s["lines"]),
                  seconds=number(s["seconds"], language, 2), eps=n(s["events_per_second"])))
    rows = [
        (message("ingest.events", language), n(s["events"]), ""),
        (message("ingest.stored", language), n(s["events_stored"]),
         f"{message('ingest.already', language)}: {n(s['events'] - s['events_stored'])}"),
        (message("ingest.dead", language), n(s["dead_letters"]), ""),
        (message("ingest.alerts", language), n(s["alerts"]), ""),
        (message("ingest.incidents", language), n(s["incidents_created"]),
         f"{message('ingest.updated', language)}: {n(s['incidents_updated'])}"),
    ]
    if s["flagged"]:
        rows.append((message("ingest.flagged", language),
                     ", ".join(f"{tag} {n(count)}" for tag, count in s["flagged"].items()), ""))
    width = max(len(label) for label, _, _ in rows) + 2
    for label, value, extra in rows:
        print(printable(f"  {label + ':':<{width}} {value:>9}" + (f"   ({extra})" if extra else "")))
    print("  " + message("ingest.rules", language, loaded=s["rules_loaded"], failed=s["rules_failed"]))


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: a big file is decoded in a forked process (decision 0037)
    return tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr, leave=False,
                desc=pick("Đang nhập", "Ingesting"))


def _hint_format(runtime, paths: list[Path], source: str, language: str) -> None:  # type: ignore[no-untyped-def]
    from canhgac.commands.format_hint import likely_formats

    collection = runtime.collection()
    for path in paths:
        most_failed, guesses = likely_formats(path, source, collection.formats(), collection.parser)
        if not most_failed:
            continue
        key = "ingest.hint_format" if guesses else "ingest.hint_unknown"
        print(printable(message(key, language, file=path, source=source, formats=", ".join(guesses))),
              file=sys.stderr)
