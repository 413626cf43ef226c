"""Full forecast refit time (issue 5): 17 sites × 6 services, a year of simulated history.

    python benchmarks/forecast_refit.py [--sites 17] [--services 6] [--days 365] [--repeat 3]
                                        [--workers N] [--counters]

Times `forecasting.fit_all` (model selection per series, final fit, 14-day forecast, waits
and levels) from a cold process, with as many worker processes as the server's refit uses
by default (one per CPU); the target is ≤ 60 s on the 2-core standard machine. Each service
is staffed for about 80 % at its average hour (10-minute services). With `--counters`, as the
server does: 28 days ahead, and the waits simulated at each site's counters
(`display_server.forecast_waits`), each counter serving its service and then the next one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time

import pandas as pd

from display_server.config import WEEKDAYS, Counter, Names, OpeningHours, Service, Site
from display_server.forecast_waits import CounterSimulation
from forecasting import WARD_OFFICE, ServicePlan, available_cpus, fit_all
from forecasting.simulate import simulate_arrivals
from forecasting.table import DayWaits


def counter_simulations(plans: dict[tuple[str, str], ServicePlan]) -> dict[str, DayWaits]:
    """Per site, its planned counters as a configured site: counter k of a service serves it
    and then the site's next service (a counter that helps its neighbour when idle)."""
    hours = OpeningHours(open=dt.time(8), cutoff=dt.time(17), close=dt.time(17))
    simulations: dict[str, DayWaits] = {}
    for site_id in sorted({site for site, _ in plans}):
        services = sorted(service for site, service in plans if site == site_id)
        counters = [
            Counter(
                id=f"{service}-{k}", name=Names(ja=service, en=service), label=str(k),
                services=(service, services[(i + 1) % len(services)]),
            )
            for i, service in enumerate(services)
            for k in range(plans[(site_id, service)].counters)
        ]
        site = Site(
            id=site_id, name=Names(ja=site_id, en=site_id),
            hours={day: hours for day in WEEKDAYS[:5]},
            services=tuple(
                Service(id=s, name=Names(ja=s, en=s), prefix=chr(ord("A") + i),
                        default_service_minutes=10.0)
                for i, s in enumerate(services)
            ),
            counters=tuple(counters),
        )
        simulations[site_id] = CounterSimulation(site, {})
    return simulations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=17)
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=available_cpus(), help="default: one per CPU"
    )
    parser.add_argument("--counters", action="store_true", help="as the server: see above")
    options = parser.parse_args()
    arrivals = simulate_arrivals(
        "2025-01-01", options.days, sites=options.sites, services=options.services
    )
    now = pd.Timestamp("2025-01-01") + pd.Timedelta(days=options.days)
    load = arrivals[arrivals["count"] > 0].groupby(["site", "service"])["count"].mean()
    plans = {
        key: ServicePlan(max(1, math.ceil(rate / 6 / 0.8)), 10.0) for key, rate in load.items()
    }
    day_waits = counter_simulations(plans) if options.counters else None
    horizon = 28 if options.counters else 14
    print(
        f"{len(load)} series, {len(arrivals)} hourly rows, forecasting {horizon} days from "
        f"{now:%Y-%m-%d}, {options.workers} worker(s), waits "
        + ("simulated at counters" if options.counters else "of the plans' queues")
    )
    for run in range(1, options.repeat + 1):
        started = time.perf_counter()
        table = fit_all(
            arrivals, WARD_OFFICE, now, horizon_days=horizon, plans=plans,
            workers=options.workers, day_waits=day_waits,
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
