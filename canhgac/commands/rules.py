"""``canhgac rules test [PATH]``, ``canhgac rules lint [PATH]`` and ``canhgac hunt --rule ID --since 30d``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from canhgac.commands import group_help
from canhgac.commands.options import duration
from canhgac.core.config import Settings, load_settings
from canhgac.core.i18n import cli_language, pick, term
from canhgac.core.model import Alert, utcnow
from canhgac.core.text import printable, printable_json

WORDS = {
    "vi": {"ok": "ĐẠT", "fail": "LỖI", "load": "không nạp được", "summary": "{rules} luật, {cases} ca kiểm thử: "
           "{passed} đạt, {failed} lỗi, {errors} luật không nạp được", "expected_fire": "phải kích hoạt",
           "expected_quiet": "không được kích hoạt", "lint": "{errors} lỗi, {warnings} cảnh báo, {notes} ghi chú "
           "trên {rules} luật", "unknown_rule": "không có luật {rule} trong các thư mục luật đã cấu hình",
           "hunt": "Săn tìm bằng luật {rule}: {events} sự kiện từ {since}, {alerts} cảnh báo, {stored} mới lưu",
           "listed": "{rules} luật, {errors} luật không nạp được"},
    "en": {"ok": "PASS", "fail": "FAIL", "load": "not loaded", "summary": "{rules} rules, {cases} cases: "
           "{passed} passed, {failed} failed, {errors} rules not loaded", "expected_fire": "should fire",
           "expected_quiet": "should stay quiet", "lint": "{errors} errors, {warnings} warnings, {notes} notes "
           "over {rules} rules", "unknown_rule": "no rule {rule} in the configured rule folders",
           "hunt": "Hunt with rule {rule}: {events} events since {since}, {alerts} alerts, {stored} newly stored",
           "listed": "{rules} rules, {errors} not loaded"},
}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("liệt kê, kiểm thử và rà soát luật phát hiện", "list, test and lint detection rules")
    cmd = commands.add_parser("rules", help=text, description=text)
    group_help(cmd)
    actions = cmd.add_subparsers(dest="action", metavar=pick("VIỆC", "ACTION"))
    folders = pick("tệp hoặc thư mục luật (mặc định: theo cấu hình)", "rule files or folders (default: configured)")
    text = pick("liệt kê các luật: tên, tiêu đề, mức độ, kỹ thuật ATT&CK",
                "list the rules: name, title, level, ATT&CK techniques")
    listing = actions.add_parser("list", parents=[common], help=text, description=text)
    listing.add_argument("paths", nargs="*", type=Path, metavar=pick("ĐƯỜNG_DẪN", "PATH"), help=folders)
    listing.add_argument("--format", choices=("table", "jsonl"), default="table")
    listing.set_defaults(handler=run_list)
    text = pick("chạy các sự kiện mẫu của từng luật, báo cáo theo luật",
                "run every rule's fixture events and report per rule")
    test = actions.add_parser("test", parents=[common], help=text, description=text)
    test.add_argument("paths", nargs="*", type=Path, metavar=pick("ĐƯỜNG_DẪN", "PATH"), help=folders)
    test.set_defaults(handler=run_test)
    text = pick("rà soát luật: lỗi, thiếu thông tin, chi phí lọc sơ bộ",
                "check rules for problems and missing metadata")
    lint = actions.add_parser("lint", parents=[common], help=text, description=text)
    lint.add_argument("paths", nargs="*", type=Path, metavar=pick("ĐƯỜNG_DẪN", "PATH"), help=folders)
    lint.add_argument("--strict", action="store_true", help=pick("cảnh báo cũng tính là lỗi", "warnings fail too"))
    lint.set_defaults(handler=run_lint)
    text = pick("chạy lại các sự kiện đã lưu qua một luật (săn tìm mối đe dọa)",
                "replay stored events through one rule (threat hunting)")
    hunt = commands.add_parser("hunt", parents=[common], help=text, description=text)
    target = hunt.add_mutually_exclusive_group(required=True)
    target.add_argument("--rule", help=pick(
        "luật hoặc luật tương quan: mã (id), tên (name) hoặc tên tệp không đuôi (xem canhgac rules list)",
        "rule or correlation: its id, name or file name without .yml (see canhgac rules list)"))
    target.add_argument("--behaviour", action="store_true", help=pick(
        "phân tích hành vi từng cán bộ và hệ thống gọi API (rò rỉ dữ liệu) trên các sự kiện đã lưu, từ mức thường "
        "trống; cảnh báo trùng mã với phát hiện trực tiếp",
        "behaviour analytics per official and API client (data leaks) over the stored events, from empty "
        "baselines; alerts have live detection's ids"))
    hunt.add_argument("--since", default="30d", type=duration,
                      help=pick("lùi lại bao xa, ví dụ 30d, 12h (mặc định 30d)",
                                "how far back, e.g. 30d, 12h (default 30d)"))
    hunt.add_argument("--agency", action="append", help=pick("chỉ các cơ quan này (lặp lại được)",
                                                             "only these agencies (repeatable)"))
    hunt.add_argument("--save", action="store_true", help=pick("lưu các cảnh báo (mã trùng với phát hiện trực tiếp)",
                                                               "store the alerts (ids equal live detection's)"))
    hunt.add_argument("--format", choices=("table", "jsonl"), default="table")
    hunt.set_defaults(handler=run_hunt)


def rule_paths(settings: Settings, paths: list[Path]) -> list[Path]:
    if paths:
        return paths
    from canhgac.detectors.sigma import builtin_rules_dir

    found = [builtin_rules_dir()] if settings.detection.builtin_rules else []
    return found + [settings.resolve_path(path) for path in settings.detection.rule_dirs]


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from canhgac.detectors.sigma import load_rules
    from canhgac.detectors.sigma.parse import ParseOptions

    settings = load_settings(args.config)
    options = ParseOptions(placeholders=settings.detection.placeholders)
    return settings, load_rules(rule_paths(settings, list(getattr(args, "paths", []) or [])), options)


def resolve_rule(loaded, reference: str) -> str:  # type: ignore[no-untyped-def]
    """The id of the rule or correlation ``reference`` names: its id, its ``name``, or its file's stem (when
    that file holds only this one); ``KeyError`` otherwise."""
    items = [(rule.id, rule.name, rule.path) for rule in loaded.rules]
    items += [(rule.id, rule.meta.name, rule.path) for rule in loaded.correlations]
    by_stem: dict[str, set[str]] = {}
    for rule_id, _, path in items:
        by_stem.setdefault(path.stem, set()).add(rule_id)
    for rule_id, name, _ in items:
        if reference in (rule_id, name):
            return rule_id
    found = by_stem.get(reference.removesuffix(".yml"), set())
    if len(found) == 1:
        return next(iter(found))
    raise KeyError(reference)


def run_list(args: argparse.Namespace) -> int:
    settings, loaded = _load(args)
    language = cli_language(settings.language)
    rows = [_listed(rule.name or rule.path.stem, rule.id, rule.title, rule.title_vi, rule.severity, rule.tags,
                    rule.path, "rule") for rule in loaded.rules]
    rows += [_listed(c.meta.name or c.path.stem, c.id, c.meta.title, c.meta.title_vi, c.meta.severity,
                     list(c.meta.tags), c.path, "correlation") for c in loaded.correlations]
    rows.sort(key=lambda row: row["name"])
    for error in loaded.errors:
        print(printable(f"{WORDS[language]['fail']}  {WORDS[language]['load']}: {error}"), file=sys.stderr)
    if args.format == "jsonl":
        for row in rows:
            print(printable_json(json.dumps(row, ensure_ascii=False)))
        return 1 if loaded.errors else 0
    header = (pick("tên", "name", language), pick("mức độ", "level", language), "ATT&CK",
              pick("tiêu đề", "title", language))
    table = [header] + [(row["name"], term(f"severity.{row['level']}", language),
                         ", ".join(row["attack_techniques"]) or "—",
                         (row["title_vi"] if language == "vi" else None) or row["title"]) for row in rows]
    table = [tuple(printable(str(cell)) for cell in row) for row in table]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    print(WORDS[language]["listed"].format(rules=len(rows), errors=len(loaded.errors)))
    return 1 if loaded.errors else 0


def _listed(name: str, rule_id: str, title: str, title_vi: str | None, severity, tags,  # type: ignore[no-untyped-def]
            path: Path, kind: str) -> dict:  # type: ignore[type-arg]
    from canhgac.incidents.grouping import attack_from_tags

    tactics, techniques = attack_from_tags(list(tags))
    return {"name": name, "id": rule_id, "kind": kind, "level": severity.value, "title": title,
            "title_vi": title_vi, "attack_techniques": techniques, "attack_tactics": tactics, "path": str(path)}


def run_test(args: argparse.Namespace) -> int:
    from canhgac.detectors.sigma.fixtures import run_fixtures

    settings, loaded = _load(args)
    words = WORDS[cli_language(settings.language)]
    for error in loaded.errors:
        print(printable(f"{words['fail']}  {words['load']}: {error}"))
    results = run_fixtures(loaded)
    by_rule: dict[str, list] = {}  # type: ignore[type-arg]
    for result in results:
        by_rule.setdefault(result.rule_id, []).append(result)
    for rule_results in by_rule.values():
        first = rule_results[0]
        failed = [result for result in rule_results if not result.ok]
        passed = len(rule_results) - len(failed)
        print(printable(f"{words['fail'] if failed else words['ok']:<4}  {first.title} "
                        f"({passed}/{len(rule_results)})  {first.path}"))
        for result in failed:
            wanted = words["expected_fire"] if result.expected else words["expected_quiet"]
            print(printable(f"        {result.case}: {wanted}"))
    failures = sum(not result.ok for result in results)
    print(words["summary"].format(rules=len(by_rule), cases=len(results), passed=len(results) - failures,
                                  failed=failures, errors=len(loaded.errors)))
    return 1 if failures or loaded.errors else 0


def run_lint(args: argparse.Namespace) -> int:
    from canhgac.detectors.sigma.lint import lint

    settings, loaded = _load(args)
    words = WORDS[cli_language(settings.language)]
    for error in loaded.errors:
        print(printable(f"error    {error}"))
    issues = lint(loaded)
    for issue in issues:
        print(printable(f"{issue.severity:<8} {issue}"))
    warnings = sum(issue.severity == "warning" for issue in issues)
    notes = sum(issue.severity == "note" for issue in issues)
    print(words["lint"].format(errors=len(loaded.errors), warnings=warnings, notes=notes, rules=loaded.count))
    return 1 if loaded.errors or (args.strict and warnings) else 0


def run_hunt(args: argparse.Namespace) -> int:
    from canhgac.runtime import Runtime

    settings, loaded = _load(args)
    language = cli_language(settings.language)
    runtime = Runtime.build(settings)
    try:
        since = utcnow() - args.since
        agencies = frozenset(args.agency) if args.agency else None
        try:
            if args.behaviour:
                alerts, count = hunt_behaviour(runtime, since, agencies)
            else:
                alerts, count = hunt(runtime, loaded, args.rule, since, agencies)
        except KeyError:
            print(printable(WORDS[language]["unknown_rule"].format(rule=args.rule)), file=sys.stderr)
            return 2
        stored = len(runtime.store.put_alerts(alerts)) if args.save and alerts else 0
    finally:
        runtime.close()
    if args.format == "jsonl":
        for alert in alerts:
            print(printable_json(json.dumps(alert.to_doc(), ensure_ascii=False)))
    else:
        for alert in alerts:
            title = (alert.rule_title_vi if language == "vi" else None) or alert.rule_title
            who = ", ".join(f"{key}={value}" for key, value in alert.entities.items())
            print(printable(f"{alert.last_seen:%Y-%m-%d %H:%M:%S}Z  {alert.severity.value:<8} {alert.agency:<12} "
                            f"{title}  {who}  ({alert.count})"))
    print(WORDS[language]["hunt"].format(rule=args.rule or "behaviour", events=count, since=f"{since:%Y-%m-%d %H:%M}Z",
                                         alerts=len(alerts), stored=stored), file=sys.stderr)
    return 0


def hunt_behaviour(runtime, since: datetime,  # type: ignore[no-untyped-def]
                   agencies: frozenset[str] | None) -> tuple[list[Alert], int]:
    """The behaviour detector over the stored hours since ``since`` that live detection would have scored by
    now (closed for the grace period), from empty baselines held in memory."""
    from datetime import timedelta

    from canhgac.detectors.behaviour import BehaviourDetector
    from canhgac.detectors.behaviour.features import DATASETS
    from canhgac.storage.base import EventQuery

    settings = runtime.settings.detection.behaviour
    end = utcnow() - timedelta(minutes=settings.grace_minutes)
    detector = BehaviourDetector(runtime.store, settings, agencies=agencies, namespace="replay")
    alerts = detector.replay(since, end)
    count = runtime.store.count_events(EventQuery(start=since, end=end, agencies=agencies,
                                                  filters={"event.dataset": list(DATASETS)}))
    return alerts, count


def hunt(runtime, loaded, rule_ref: str, since: datetime,  # type: ignore[no-untyped-def]
         agencies: frozenset[str] | None) -> tuple[list[Alert], int]:
    """Replay stored events, oldest first, through the live engine's classes restricted to one rule and
    what it depends on; the alerts of that rule (same ids as live detection would give)."""
    from canhgac.detectors.evidence import with_evidence
    from canhgac.detectors.sigma import SigmaDetector
    from canhgac.storage.base import EventQuery

    rules = {rule.id: rule for rule in loaded.rules}
    correlations = {rule.id: rule for rule in loaded.correlations}
    target = resolve_rule(loaded, rule_ref)
    wanted_rules, wanted_correlations = set(), set()
    pending = [target]
    while pending:
        current = pending.pop()
        if current in correlations and current not in wanted_correlations:
            wanted_correlations.add(current)
            pending += correlations[current].rule_ids
        elif current in rules:
            wanted_rules.add(current)
    detector = SigmaDetector([rule for rule in loaded.rules if rule.id in wanted_rules],
                             [rule for rule in loaded.correlations if rule.id in wanted_correlations],
                             lateness_seconds=runtime.settings.detection.correlation.allowed_lateness_seconds,
                             emit_silent=True)
    alerts: list[Alert] = []
    count = 0
    for batch in _pages(runtime.store, EventQuery(start=since, agencies=agencies, newest_first=False, limit=2000)):
        count += len(batch)
        alerts += [alert for alert in detector.detect(with_evidence(batch)) if alert.rule_id == target]
    return alerts, count


def _pages(store, query) -> Iterator[list]:  # type: ignore[no-untyped-def,type-arg]
    from dataclasses import replace

    from canhgac.storage.base import EventCursor

    while True:
        batch = store.search_events(query)
        if not batch:
            return
        yield batch
        if len(batch) < query.limit:
            return
        query = replace(query, after=EventCursor.of(batch[-1]))
