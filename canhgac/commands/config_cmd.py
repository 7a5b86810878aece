"""``canhgac config check FILE`` and ``canhgac config example``."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from canhgac.commands import group_help
from canhgac.core.config import EXAMPLE_CONFIG, FileLogSource, Settings, load_settings
from canhgac.core.errors import ConfigError, ConfigErrors
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable
from canhgac.core.yamlpos import line_of, load_with_lines


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    text = pick("làm việc với tệp cấu hình", "work with the configuration file")
    cmd = commands.add_parser("config", help=text, description=text)
    group_help(cmd)
    actions = cmd.add_subparsers(dest="action", metavar=pick("VIỆC", "ACTION"))
    text = pick("kiểm tra một tệp cấu hình (lỗi ghi rõ tệp:dòng [trường]; cảnh báo khi chưa có tệp nhật ký)",
                "validate a configuration file (errors name file:line [field]; warns of missing log files)")
    check = actions.add_parser("check", help=text, description=text)
    check.add_argument("file", type=Path, metavar=pick("TỆP", "FILE"))
    check.set_defaults(handler=run_check)
    text = pick("in cấu hình ví dụ (điểm khởi đầu để sửa)",
                "print the example configuration (a starting point to edit)")
    example = actions.add_parser("example", help=text, description=text)
    example.set_defaults(handler=run_example)


def run_example(args: argparse.Namespace) -> int:
    sys.stdout.write(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    return 0


def run_check(args: argparse.Namespace) -> int:
    language = cli_language()
    try:
        settings = load_settings(args.file)
    except ConfigErrors as exc:
        return _invalid([str(error) for error in exc.errors], language)
    except ConfigError as exc:
        return _invalid([str(exc)], language)
    language = cli_language(settings.language)
    errors, warnings = source_problems(settings, args.file, language)
    for warning in warnings:
        print(printable(f"{message('warning', language)}: {warning}"), file=sys.stderr)
    if errors:
        return _invalid(errors, language)
    print(message("config.ok", language, file=args.file, agencies=len(settings.agencies),
                  systems=len(settings.systems), keys=len(settings.api_keys), store=settings.store.kind))
    if warnings:
        print(message("config.warnings", language, count=len(warnings)))
    return 0


def _invalid(errors: list[str], language: str) -> int:
    print(message("config.bad", language, count=len(errors)), file=sys.stderr)
    for error in errors:
        print(f"  {printable(error)}", file=sys.stderr)
    return 1


def source_problems(settings: Settings, file: Path, language: str) -> tuple[list[str], list[str]]:
    """What the schema cannot know: log formats no parser reads (errors), and file sources whose paths match
    no file yet (warnings: the file may appear later, the tail picks it up on restart)."""
    from canhgac.collectors.parsers import known_formats

    _, lines = load_with_lines(file.read_text(encoding="utf-8"), str(file))
    known = known_formats({name: settings.resolve_path(path) for name, path in
                           settings.collection.json_mappings.items()})
    errors: list[str] = []
    warnings: list[str] = []

    def located(text: str, loc: tuple[str | int, ...]) -> str:
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        return str(ConfigError(text, file=str(file), line=line_of(lines, loc), field=field))

    def check_format(name: str | None, loc: tuple[str | int, ...]) -> None:
        if name is not None and name not in known:
            errors.append(located(message("config.unknown_format", language, format=name, known=", ".join(known)),
                                  loc))

    for index, listener in enumerate(settings.collection.syslog):
        check_format(listener.format, ("collection", "syslog", index, "format"))
    for i, system in enumerate(settings.systems):
        for j, source in enumerate(system.log_sources):
            check_format(source.format, ("systems", i, "log_sources", j, "format"))
            if not isinstance(source, FileLogSource):
                continue
            for k, pattern in enumerate(source.paths):
                if not glob.glob(pattern):
                    warnings.append(located(message("config.no_log_file", language, pattern=pattern),
                                            ("systems", i, "log_sources", j, "paths", k)))
    grouping = settings.incidents.grouping
    if grouping.rules:
        for name in grouping.unknown_rules(_rule_names(settings)):
            errors.append(located(message("config.unknown_rule", language, rule=name),
                                  ("incidents", "grouping", "rules", name)))
    return errors, warnings


def _rule_names(settings: Settings) -> set[str]:
    """Ids and names of every rule the pipeline would load, and the anomaly and behaviour models' ids."""
    from canhgac.detectors.anomaly import RULE_ID
    from canhgac.detectors.behaviour.rules import RULES as BEHAVIOUR_RULES
    from canhgac.detectors.sigma import builtin_rules_dir, load_rules

    paths = [builtin_rules_dir()] if settings.detection.builtin_rules else []
    loaded = load_rules(paths + [settings.resolve_path(p) for p in settings.detection.rule_dirs])
    names = {RULE_ID, *BEHAVIOUR_RULES} | {r.id for r in loaded.rules} | {r.name for r in loaded.rules if r.name}
    return names | {c.id for c in loaded.correlations} | {c.meta.name for c in loaded.correlations if c.meta.name}
