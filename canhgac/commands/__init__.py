"""The ``canhgac`` subcommands; each module registers its own arguments."""

from __future__ import annotations

import argparse


def group_help(parser: argparse.ArgumentParser) -> None:
    """A command (or a group such as ``canhgac config``) given without what it needs prints its help."""

    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    parser.set_defaults(handler=show)
