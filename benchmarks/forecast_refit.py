"""Full forecast refit time (issue 5): 17 sites × 6 services, a year of simulated history.

    python benchmarks/forecast_refit.py [--sites 17] [--services 6] [--days 365] [--repeat 3]
                                        [--workers N]

Times `forecasting.fit_all` (model selection per series, final fit, 14-day forecast, waits
and levels) from a cold process, with as many worker processes as the server's refit uses
by default (one per CPU); the target is ≤ 60 s on the 2-core standard machine.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import pandas as pd

from forecasting import WARD_OFFICE, ServicePlan, available_cpus, fit_all
from forecasting.simulate import simulate_arrivals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=17)
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=available_cpus(), help="default: one per CPU"
    )
    options = parser.parse_args()
    arrivals = simulate_arrivals(
        "2025-01-01", options.days, sites=options.sites, services=options.services
    )
    now = pd.Timestamp("2025-01-01") + pd.Timedelta(days=options.days)
    # Staff each service for ~80 % utilisation at its average hour, 10-minute services.
    load = arrivals[arrivals["count"] > 0].groupby(["site", "service"])["count"].mean()
    plans = {
        key: ServicePlan(max(1, math.ceil(rate / 6 / 0.8)), 10.0) for key, rate in load.items()
    }
    print(
        f"{len(load)} series, {len(arrivals)} hourly rows, forecasting from {now:%Y-%m-%d}, "
        f"{options.workers} worker(s)"
    )
    for run in range(1, options.repeat + 1):
        started = time.perf_counter()
        table = fit_all(
            arrivals, WARD_OFFICE, now, horizon_days=14, plans=plans, workers=options.workers
        )
        seconds = time.perf_counter() - started
        models = table.groupby("model")[["site", "service"]].apply(
            lambda rows: len(rows.drop_duplicates())
        )
        print(f"run {run}: {seconds:.1f} s, {len(table)} forecast rows, models {models.to_dict()}")
        print(f"  levels {table['level'].value_counts().to_dict()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
