"""The ``canhgac`` command. Subcommands import what they need lazily, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from canhgac import __version__
from canhgac.core.errors import CanhGacError, ConfigError, ConfigErrors, NotFound, UnknownFormat
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import message, printable

#: The exit status of a command whose reader went away (``canhgac events | head``), as for a SIGPIPE death.
BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    from canhgac import argparse_vi
    from canhgac.commands import (
        cluster,
        collect,
        config_cmd,
        dashboards,
        export,
        group_help,
        ingest,
        rules,
        serve,
        sources,
        store_cmd,
        worker,
    )

    argparse_vi.install()
    parser = argparse.ArgumentParser(prog="canhgac", description=pick(
        "Canh Gác — giám sát an toàn thông tin (SOC) cho chính phủ số Việt Nam",
        "Canh Gác — SOC for Vietnam's e-government"),
        epilog=pick("Tiếng Anh: đặt CANHGAC_LANG=en. Trợ giúp của một lệnh: canhgac LỆNH --help",
                    "In Vietnamese: unset CANHGAC_LANG. Help on one command: canhgac COMMAND --help"))
    parser.add_argument("--version", action="version", version=f"canhgac {__version__}",
                        help=pick("in phiên bản rồi thoát", "print the version and exit"))
    parser.add_argument("-v", "--verbose", action="store_true", help=pick("ghi nhật ký chi tiết hơn", "log more"))
    group_help(parser)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None, help=pick(
        "tệp cấu hình (mặc định: $CANHGAC_CONFIG, $CANHGAC_HOME/canhgac.yaml, hoặc cấu hình ví dụ có sẵn)",
        "configuration file (default: $CANHGAC_CONFIG, $CANHGAC_HOME/canhgac.yaml, or the built-in example)"))
    commands = parser.add_subparsers(dest="command", metavar=pick("LỆNH", "COMMAND"),
                                     title=pick("các lệnh", "commands"))
    for module in (serve, ingest, export, config_cmd, sources, rules, dashboards, store_cmd, collect, worker, cluster):
        module.register(commands, common)
    return parser


def _help(parser: argparse.ArgumentParser) -> int:
    """A command (or a group such as ``canhgac config``) given without what it needs: its help, not an error."""
    parser.print_help()
    return 0


def group_help(parser: argparse.ArgumentParser) -> None:
    """Make ``canhgac GROUP`` alone print the group's help."""
    group_help(parser)


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader left (``| head``): stop quietly. Later flushes of stdout, at exit too, go nowhere.
        with contextlib.suppress(OSError, ValueError):  # not a file descriptor (a test's capture): no flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    language = cli_language()
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a reader that left shows here, inside the handler of BrokenPipeError
        return code
    except ConfigErrors as exc:
        for error in exc.errors:
            print(f"{message('error', language)}: {printable(str(error))}", file=sys.stderr)
        return 2
    except (ConfigError, NotFound, UnknownFormat) as exc:
        print(f"{message('error', language)}: {printable(str(exc))}", file=sys.stderr)
        return 2
    except CanhGacError as exc:
        print(f"{message('error', language)}: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(message("stopped", language), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
