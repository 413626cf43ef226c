"""Replay the demo's SIMULATED office through the wait estimator: waits of tens of minutes.

The Anonymous Bank replay (estimate_replay_anonbank.py) scores the estimator on a real log, but
a call centre's waits are mostly under a few minutes; a ward office's run to tens of minutes and
in the moving season to hours. No per-visit log of such an office is available, so this scores
the estimator on what `serve --demo` writes as its history (`demo_history.seed_history`: the
example ward's sites, Poisson arrivals on the ward's weekday × hour profile, exponential service
times at the configured means, counters calling by their work profiles), written into a
temporary SQLite database and replayed one site at a time, as `madoguchi estimate replay` would
replay the site's Visits CSV (server = counter, queue = service). Simulated, not measured: the
numbers say how the estimator copes with long waits, not how an office's visitors behave.
Usage (from the project root):

    python benchmarks/estimate_replay_simulated.py [--days 56] [--sites nerima oizumi ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time

from demo_database import simulated_history
from sqlalchemy import select

from display_server.config import load_config
from display_server.replay import ReplayResult, Row, Visit, replay, result_of
from display_server.store.db import make_engine, make_sessionmaker
from display_server.store.models import TicketRow

#: The end of the simulated history (its last day is the day before).
END = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def site_visits(database_url: str, site: str) -> list[Visit]:
    """The site's simulated tickets as the Visits CSV's rows, in order of arrival."""
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.scalars(
                select(TicketRow).where(TicketRow.site == site).order_by(TicketRow.issued_at)
            ).all()
            return [
                Visit(row=i, arrival=t.issued_at, service_start=t.called_at,
                      service_end=t.finished_at, queue=t.service, server=t.counter or "")
                for i, t in enumerate(rows, start=2)
            ]
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=56, help="days of simulated history")
    parser.add_argument("--sites", nargs="*", help="site ids (default: every site)")
    args = parser.parse_args(argv)
    config = load_config()
    sites = args.sites or [site.id for site in config.sites]
    # Every simulated day gets its whole lifecycle (`demo_history.LIFECYCLE` is 8 weeks).
    with simulated_history(config, end=END, days=args.days) as url:
        every: list[Row] = []
        for site in sites:
            visits = site_visits(url, site)
            began = time.perf_counter()
            result = replay(visits, default_minutes=10.0)
            print(_line(site, result, seconds=round(time.perf_counter() - began, 1)), flush=True)
            every.extend(result.rows)
    print(_line("all", result_of(every)), flush=True)
    return 0


def _line(label: str, result: ReplayResult, **extra: float) -> str:
    widths = [row[4] - row[3] for row in result.rows]
    waits = [row[1] for row in result.rows]
    summary = {
        "site": label, **extra,
        "ratio_to_best": result.ratio_to_best,
        "mean_wait_min": round(statistics.fmean(waits), 1),
        "p90_wait_min": round(statistics.quantiles(waits, n=10)[-1], 1),
        "range_width_median_min": round(statistics.median(widths), 1),
        "range_width_p90_min": round(statistics.quantiles(widths, n=10)[-1], 1),
    }
    return json.dumps(summary | result.to_json())


if __name__ == "__main__":
    sys.exit(main())
