"""The `madoguchi` command: one argparse tree, each package adds its own subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Collect every package's subcommands under one parser."""
    from display_server import estimate_cli, server_cli
    from forecasting import cli as forecasting_cli
    from kiosk import cli as kiosk_cli
    from printers import cli as printers_cli

    parser = argparse.ArgumentParser(
        prog="madoguchi",
        description="Madoguchi (窓口): queue tickets and congestion for ward office counters.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (
        server_cli.register,
        estimate_cli.register,
        kiosk_cli.register,
        printers_cli.register,
        forecasting_cli.register,
    ):
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
