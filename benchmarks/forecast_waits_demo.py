"""Forecast waits against the demo's history (issue 5): what the calendar says, what happened.

    python benchmarks/forecast_waits_demo.py [--test-days 28] [--seeds 7 8 9]

Writes the history `serve --demo` writes (the example ward, a year of simulated visitors, the
counters calling by their work profiles) into a temporary SQLite database, once per seed (7 is
the demo's own; one history's four weeks leave a site's mean wait uncertain by minutes), fits
the forecast as the server does (`forecast_service.fit_ward`) at a cut `--test-days` before its
end, and compares each forecast hour with the waits realised in the simulation after the cut:

- per site, hour and service, the forecast wait against the mean realised wait of that hour's
  arrivals (MAE weighted by arrivals);
- per site, weekday and hour (the calendar's cells), both averaged over the test weeks and
  over the services, weighted by arrivals: MAE, and the share of cells whose crowding level
  (the configured thresholds) is the realised one;
- the page's "best times to come" (`forecast_service.best_hours` on the site's hours, all
  services) at the start of each test week: the waits realised in the recommended hours
  against all open hours of that week, and where they rank among them (0 the quietest hour,
  1 the busiest).

It is a simulation: it says whether the forecast's waits follow the demo's own mechanics (one
queue building up through a Monday morning), not how well they describe a real office.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

import numpy as np
import pandas as pd
from demo_database import simulated_history
from sqlalchemy import select
from sqlalchemy.orm import Session

from display_server.config import WardConfig, load_config
from display_server.forecast_service import best_hours, fit_ward, site_hours
from display_server.store.db import make_engine, make_sessionmaker
from display_server.store.models import ForecastRow, TicketRow
from forecasting.crowding import Thresholds, crowding_levels

END = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)


def realised_waits(session: Session, zone: dt.tzinfo, since: dt.datetime) -> pd.DataFrame:
    """Mean wait of the tickets queued in each site, service and local hour after `since`."""
    rows = session.execute(
        select(TicketRow.site, TicketRow.service, TicketRow.queued_at, TicketRow.called_at)
        .where(TicketRow.queued_at >= since, TicketRow.called_at.is_not(None))
    ).all()
    frame = pd.DataFrame(rows, columns=["site", "service", "queued_at", "called_at"])
    queued = pd.to_datetime(frame["queued_at"], utc=True)
    frame["wait"] = (pd.to_datetime(frame["called_at"], utc=True) - queued).dt.total_seconds() / 60
    frame["hour_start"] = queued.dt.tz_convert(zone).dt.floor("h")
    return (
        frame.groupby(["site", "service", "hour_start"])
        .agg(realised=("wait", "mean"), visits=("wait", "size"))
        .reset_index()
    )


def compare(
    table: pd.DataFrame, realised: pd.DataFrame, thresholds: Thresholds
) -> dict[str, float]:
    both = table.merge(realised, on=["history", "site", "service", "hour_start"], how="inner")
    weights = both["visits"]
    hourly = float(np.average((both["est_wait_min"] - both["realised"]).abs(), weights=weights))
    both["weekday"] = both["hour_start"].dt.day_of_week
    both["hour"] = both["hour_start"].dt.hour
    both["forecast_w"] = both["est_wait_min"] * weights
    both["realised_w"] = both["realised"] * weights
    cells = both.groupby(["history", "site", "weekday", "hour"])[
        ["forecast_w", "realised_w", "visits"]
    ].sum()
    forecast = cells["forecast_w"] / cells["visits"]
    actual = cells["realised_w"] / cells["visits"]
    same = crowding_levels(forecast.to_numpy(), thresholds) == crowding_levels(
        actual.to_numpy(), thresholds
    )
    return {
        "hours": len(both),
        "visits": int(weights.sum()),
        "hourly_mae_min": round(hourly, 2),
        "cells": len(cells),
        "cell_mae_min": round(float((forecast - actual).abs().mean()), 2),
        "cell_bias_min": round(float((forecast - actual).mean()), 2),
        "cell_level_agreement": round(float(same.mean()), 3),
        "realised_cell_mean_min": round(float(actual.mean()), 2),
    }


def recommendations(
    table: pd.DataFrame, realised: pd.DataFrame, config: WardConfig, *, cut: dt.datetime
) -> dict[str, float]:
    """What the "best times to come" said at the start of each test week, against the site's
    realised waits (all services' visits of an hour pooled) in that week's open hours."""
    zone = config.policy.zone
    pooled = realised.assign(weighted=realised["realised"] * realised["visits"]).groupby(
        ["history", "site", "hour_start"]
    )[["weighted", "visits"]].sum()
    site_waits = (pooled["weighted"] / pooled["visits"]).rename("wait").reset_index()
    picked, ranks, everything = [], [], []
    for (history, site), rows in table.groupby(["history", "site"]):
        hours = site_hours(
            (ForecastRow(service=r.service, hour_start=r.hour_start.to_pydatetime(),
                         arrivals=r.arrivals, est_wait_min=r.est_wait_min, level=r.level)
             for r in rows.itertuples(index=False)),
            config=config,
        )
        waits = site_waits[(site_waits["history"] == history) & (site_waits["site"] == site)]
        week_start = cut.astimezone(zone)
        while week_start < END:
            week_end = week_start + dt.timedelta(days=7)
            week = waits[(waits["hour_start"] >= week_start) & (waits["hour_start"] < week_end)]
            by_hour = dict(zip(week["hour_start"], week["wait"], strict=True))
            everything.extend(by_hour.values())
            ordered = sorted(by_hour.values())
            for hour in best_hours(hours, now=week_start, days=7):
                wait = by_hour.get(pd.Timestamp(hour.hour_start))
                if wait is not None:
                    picked.append(wait)
                    ranks.append(np.searchsorted(ordered, wait) / max(len(ordered) - 1, 1))
            week_start = week_end
    first_threshold = config.policy.level_thresholds_min[0]
    return {
        "recommended_hours": len(picked),
        "recommended_realised_mean_min": round(float(np.mean(picked)), 2),
        "recommended_quiet_share": round(float(np.mean(np.array(picked) < first_threshold)), 3),
        "recommended_mean_rank": round(float(np.mean(ranks)), 3),
        "all_hours_realised_mean_min": round(float(np.mean(everything)), 2),
        "all_hours_quiet_share": round(float(np.mean(np.array(everything) < first_threshold)), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-days", type=int, default=28)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    args = parser.parse_args(argv)
    config = load_config(None)
    zone = config.policy.zone
    cut = END - dt.timedelta(days=args.test_days)
    tables, realised, seconds = [], [], []
    for seed in args.seeds:
        with simulated_history(config, end=END, days=365, seed=seed) as url:
            engine = make_engine(url)
            try:
                with make_sessionmaker(engine)() as session:
                    began = time.perf_counter()
                    table = fit_ward(session, config=config, now=cut, workers=2)
                    seconds.append(round(time.perf_counter() - began, 1))
                    realised.append(realised_waits(session, zone, cut).assign(history=seed))
            finally:
                engine.dispose()
        tables.append(table[table["hour_start"] < pd.Timestamp(END).tz_convert(zone)].assign(
            history=seed
        ))
    forecast, actual = pd.concat(tables), pd.concat(realised)
    thresholds = Thresholds.from_sequence(config.policy.level_thresholds_min)
    summary = {"cut": cut.date().isoformat(), "seeds": args.seeds, "fit_seconds": seconds}
    print(json.dumps(summary | compare(forecast, actual, thresholds)), flush=True)
    print(json.dumps({"best_times": recommendations(forecast, actual, config, cut=cut)}),
          flush=True)
    for key in ("history", "site"):
        for value, rows in forecast.groupby(key, sort=True):
            print(json.dumps({key: value} | compare(rows, actual, thresholds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
