"""`madoguchi estimate …`: replaying real queue logs through the wait estimator."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `estimate` subcommands to the `madoguchi` command."""
