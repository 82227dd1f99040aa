"""The ``dhanvantri`` command.

Each area registers its own subcommands from a small ``cli`` module that imports nothing heavy at
module level, so ``dhanvantri --help`` stays fast. Exit codes: 0 success, 1 failure, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

# Modules exposing ``register(subparsers)``; each handler returns an exit code.
COMMAND_MODULES = (
    "dhanvantri.models",
    "dhanvantri.realtime.cli",
    "dhanvantri.pipeline.cli",
    "dhanvantri.privacy.cli",
    "dhanvantri.knowledge.cli",
    "dhanvantri.knowledge.safety_cli",
    "dhanvantri.platform.cli",
    "dhanvantri.platform.commerce_cli",
)


class UsageError(Exception):
    """Bad input or usage: printed to stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 already; keep it short
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available subcommand."""
    parser = _Parser(prog="dhanvantri", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("dhanvantri"):
                continue  # that area is not built into this installation
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except UsageError as exc:
        print(f"dhanvantri: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
