"""The ``canhgac`` command. Subcommands import what they need lazily, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from canhgac import __version__
from canhgac.core.errors import CanhGacError, ConfigError, ConfigErrors, NotFound, UnknownFormat
from canhgac.core.i18n import cli_language
from canhgac.core.text import message, printable


def build_parser() -> argparse.ArgumentParser:
    from canhgac.commands import config_cmd, export, ingest, rules, serve, sources

    parser = argparse.ArgumentParser(prog="canhgac", description="Canh Gác — SOC for Vietnam's e-government")
    parser.add_argument("--version", action="version", version=f"canhgac {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None,
                        help="configuration file (default: $CANHGAC_CONFIG, $CANHGAC_HOME/canhgac.yaml, "
                             "or the built-in example)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, ingest, export, config_cmd, sources, rules):
        module.register(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    language = cli_language()
    try:
        return int(args.handler(args))
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
