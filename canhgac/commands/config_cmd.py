"""``canhgac config check FILE``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from canhgac.core.config import EXAMPLE_CONFIG, load_settings
from canhgac.core.errors import ConfigError, ConfigErrors
from canhgac.core.i18n import cli_language
from canhgac.core.text import message, printable


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    cmd = commands.add_parser("config", help="work with the configuration file")
    actions = cmd.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate a configuration file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=run_check)
    example = actions.add_parser("example", help="print the example configuration (a starting point to edit)")
    example.set_defaults(handler=run_example)


def run_example(args: argparse.Namespace) -> int:
    sys.stdout.write(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    return 0


def run_check(args: argparse.Namespace) -> int:
    language = cli_language()
    try:
        settings = load_settings(args.file)
    except ConfigErrors as exc:
        print(message("config.bad", language, count=len(exc.errors)), file=sys.stderr)
        for error in exc.errors:
            print(f"  {printable(str(error))}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(message("config.bad", language, count=1), file=sys.stderr)
        print(f"  {printable(str(exc))}", file=sys.stderr)
        return 1
    print(message("config.ok", cli_language(settings.language), file=args.file, agencies=len(settings.agencies),
                  systems=len(settings.systems), keys=len(settings.api_keys), store=settings.store.kind))
    return 0
