"""The forecast table: every series fitted, forecast, and turned into waits and levels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.backtest import MIN_HISTORY, fit_or_fallback, select_model
from forecasting.calendar import CalendarKind
from forecasting.crowding import DEFAULT_THRESHOLDS, Thresholds, crowding_levels, expected_wait_min
from forecasting.errors import DataError, ModelError
from forecasting.models import history_start
from forecasting.schedule import OpeningSchedule, infer_schedule

__all__ = ["TABLE_COLUMNS", "ServicePlan", "fit_all"]

TABLE_COLUMNS = [
    "site",
    "service",
    "hour_start",
    "arrivals",
    "lo",
    "hi",
    "est_wait_min",
    "level",
    "model",
]


@dataclass(frozen=True)
class ServicePlan:
    """Planned staffing of one service: open counters and mean service time."""

    counters: int = 1
    service_min: float = 10.0
    #: Exceptions to `counters` by (weekday Mon=0, hour), e.g. a lunch-time skeleton crew.
    counters_by_hour: Mapping[tuple[int, int], int] = field(default_factory=dict)
    #: Services of a site with the same pool are served by the same counters (a counter that
    #: serves several services): they wait in one queue of all their arrivals, served in their
    #: arrival-weighted mean service time, and `counters` is the pool's. None: its own counters.
    pool: str | None = None

    def counters_at(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Planned open counters for each hour of `index`."""
        return np.array(
            [self.counters_by_hour.get((t.weekday(), t.hour), self.counters) for t in index],
            dtype=float,
        )


def fit_all(
    arrivals: pd.DataFrame,
    schedules: OpeningSchedule | Mapping[str, OpeningSchedule] | None,
    now: dt.datetime,
    *,
    horizon_days: int = 14,
    plans: Mapping[tuple[str, str], ServicePlan] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    calendar: CalendarKind = "jp",
) -> pd.DataFrame:
    """Forecast every (site, service) of an hourly frame from the start of `now`'s day.

    Only hours before `now` are used. Each series gets the model chosen by `select_model` on
    three weekly origins before its end (the weekday × hour mean when it has less than four
    weeks). `schedules` is one schedule for all sites, one per site, or None to infer each
    site's from its arrivals. Returns the open hours only, columns `TABLE_COLUMNS`; `lo`/`hi`
    bound the 80 % interval of arrivals, `est_wait_min` is the Erlang C wait at the mean of
    the service's queue (`ServicePlan.pool`).
    """
    missing = {"site", "service", "hour_start", "count"} - set(arrivals.columns)
    if missing:
        raise DataError(f"arrivals need column(s): {', '.join(sorted(missing))}")
    cutoff = pd.Timestamp(now).floor("h")
    train = arrivals[pd.DatetimeIndex(arrivals["hour_start"]) < cutoff]
    if train.empty:
        raise DataError(f"no arrivals before {cutoff.isoformat()}")
    index = pd.date_range(
        cutoff.normalize(), periods=24 * horizon_days, freq="h", name="hour_start"
    )
    site_schedules = {
        str(site): _schedule_for(str(site), schedules, rows) for site, rows in train.groupby("site")
    }
    parts = []
    for key, series in train.groupby(["site", "service"], sort=True):
        site, service = str(key[0]), str(key[1])
        schedule = site_schedules[site]
        span = series["hour_start"].max() - history_start(series)
        name = (
            select_model(series, schedule, calendar) if span >= MIN_HISTORY else "weekday_hour_mean"
        )
        try:
            model = fit_or_fallback(name, series, schedule, calendar)
        except ModelError:  # not one open hour in its history: nothing to forecast from
            continue
        hours = index[schedule.is_open(index)]
        predicted = model.predict(hours)
        plan = (plans or {}).get((site, service), ServicePlan())
        parts.append(
            pd.DataFrame(
                {
                    "site": site,
                    "service": service,
                    "hour_start": hours,
                    "mean": predicted["mean"].to_numpy(),
                    "lo": predicted["lo80"].to_numpy(),
                    "hi": predicted["hi80"].to_numpy(),
                    "model": model.name,
                    "queue": plan.pool or f"\x1f{service}",
                    "counters": plan.counters_at(hours),
                    "work": predicted["mean"].to_numpy() * plan.service_min,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    wait = _queue_waits(table)
    table["arrivals"] = table["mean"].round(2)
    table["est_wait_min"] = np.round(wait, 1)
    table["level"] = crowding_levels(wait, thresholds)
    return table[TABLE_COLUMNS]


def _queue_waits(table: pd.DataFrame) -> np.ndarray:
    """Erlang C wait of each row's queue (a service, or the pool it shares counters with) in
    its hour: all the queue's arrivals, at the queue's counters, in their arrival-weighted
    mean service time."""
    queues = table.groupby(["site", "queue", "hour_start"], sort=False)
    arrivals = queues["mean"].transform("sum").to_numpy()
    work = queues["work"].transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        service_min = np.where(arrivals > 0, work / arrivals, 0.0)
    return expected_wait_min(arrivals, table["counters"].to_numpy(), service_min)


def _schedule_for(
    site: str,
    schedules: OpeningSchedule | Mapping[str, OpeningSchedule] | None,
    site_arrivals: pd.DataFrame,
) -> OpeningSchedule:
    if isinstance(schedules, OpeningSchedule):
        return schedules
    if schedules is not None and site in schedules:
        return schedules[site]
    return infer_schedule(site_arrivals)
