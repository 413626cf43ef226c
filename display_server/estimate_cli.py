"""`madoguchi estimate …`: replaying real queue logs through the wait estimator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from display_server.replay import ReplayError, load_visits, replay


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `estimate` subcommands to the `madoguchi` command."""
    estimate = subparsers.add_parser("estimate", help="measure wait estimates on real queue logs")
    commands = estimate.add_subparsers(dest="estimate_command", metavar="COMMAND", required=True)
    run = commands.add_parser(
        "replay",
        help="replay a Visits CSV and score the estimates against the realised waits",
        description="Replay a Visits CSV (docs/estimates.md) through the wait estimator and "
        "print MAE, RMSE, median absolute error and 80 %% interval coverage (minutes) next to "
        "the queue-length (QL) and last-to-enter-service (LES) estimators.",
    )
    run.add_argument("--visits", type=Path, required=True, metavar="FILE", help="the Visits CSV")
    run.add_argument("--out", type=Path, metavar="FILE", help="JSON output file (default: stdout)")
    run.add_argument("--queue", metavar="Q", help="score only visitors of this queue")
    run.add_argument(
        "--default-minutes", type=float, default=10.0, metavar="M",
        help="service time assumed before any is observed (default: 10)",
    )
    run.add_argument(
        "--idle-minutes", type=float, default=10.0, metavar="N",
        help="an idle server seen within N minutes counts as open (default: 10)",
    )
    run.set_defaults(handler=_replay)


def _replay(args: argparse.Namespace) -> int:
    if args.default_minutes <= 0 or args.idle_minutes < 0:
        print("madoguchi estimate replay: --default-minutes must be > 0 and --idle-minutes >= 0",
              file=sys.stderr)
        return 2
    try:
        visits = load_visits(args.visits)
        result = replay(
            visits, queue=args.queue, default_minutes=args.default_minutes,
            idle_minutes=args.idle_minutes,
        )
    except ReplayError as exc:
        print(f"madoguchi estimate replay: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result.to_json(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"madoguchi estimate replay: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    return 0
