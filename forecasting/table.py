"""The forecast table: every series fitted, forecast, and turned into waits and levels."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from forecasting.backtest import MIN_HISTORY, fit_or_fallback, select_model
from forecasting.calendar import CalendarKind
from forecasting.crowding import DEFAULT_THRESHOLDS, Thresholds, crowding_levels, day_waits_min
from forecasting.errors import DataError, ModelError
from forecasting.models import history_start
from forecasting.schedule import OpeningSchedule, infer_schedule

__all__ = ["TABLE_COLUMNS", "DayWaits", "ServicePlan", "available_cpus", "fit_all"]

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
    """Planned staffing of one service on its own: open counters and mean service time."""

    counters: int = 1
    service_min: float = 10.0


class DayWaits(Protocol):
    """Expected waits of one site's day, per service and hour, from its forecast arrivals
    (means per open hour, in the order of `hours`): a simulation of counters that serve
    several services, which `ServicePlan`'s queue of one service cannot describe. It must be
    picklable for the worker processes and give the same waits in any process."""

    def __call__(
        self, day: dt.date, hours: Sequence[int], arrivals: Mapping[str, np.ndarray]
    ) -> Mapping[str, np.ndarray]: ...


def fit_all(
    arrivals: pd.DataFrame,
    schedules: OpeningSchedule | Mapping[str, OpeningSchedule] | None,
    now: dt.datetime,
    *,
    horizon_days: int = 14,
    plans: Mapping[tuple[str, str], ServicePlan] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    calendar: CalendarKind = "jp",
    workers: int = 1,
    day_waits: Mapping[str, DayWaits] | None = None,
) -> pd.DataFrame:
    """Forecast every (site, service) of an hourly frame from the start of `now`'s day.

    Only hours before `now` are used. Each series gets the model chosen by `select_model` on
    three weekly origins before its end (the weekday × hour mean when it has less than four
    weeks). `schedules` is one schedule for all sites, one per site, or None to infer each
    site's from its arrivals. Returns the open hours only, columns `TABLE_COLUMNS`; `lo`/`hi`
    bound the 80 % interval of arrivals, `est_wait_min` is the mean wait of the hour's arrivals:
    what the site's `day_waits` gives, else that of the service's own queue at its
    `ServicePlan` through its day (`crowding.day_waits_min`).
    `workers` processes fit the sites in parallel (1: in this process); the table is the same
    whatever their number.
    """
    if workers < 1:
        raise DataError(f"workers must be at least 1; got {workers}")
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
    jobs = [
        _SiteJob(
            site=str(site),
            arrivals=rows,
            schedule=_schedule_for(str(site), schedules, rows),
            index=index,
            plans={
                service: plan for (of, service), plan in (plans or {}).items() if of == str(site)
            },
            calendar=calendar,
            day_waits=(day_waits or {}).get(str(site)),
        )
        for site, rows in train.groupby("site", sort=True)
    ]
    parts = [part for site_parts in _run(jobs, workers) for part in site_parts]
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    wait = table["wait"].to_numpy(copy=True)
    planned = np.isnan(wait)
    if planned.any():
        wait[planned] = _queue_waits(table[planned])
    table["arrivals"] = table["mean"].round(2)
    table["est_wait_min"] = np.round(wait, 1)
    table["level"] = crowding_levels(wait, thresholds)
    return table[TABLE_COLUMNS]


@dataclass(frozen=True)
class _SiteJob:
    """One site's series to fit: what a worker process needs, and nothing more to pickle."""

    site: str
    arrivals: pd.DataFrame
    schedule: OpeningSchedule
    index: pd.DatetimeIndex
    plans: Mapping[str, ServicePlan]
    calendar: CalendarKind
    day_waits: DayWaits | None


def _run(jobs: list[_SiteJob], workers: int) -> list[list[pd.DataFrame]]:
    """`_fit_site` of every job, in order; the largest sites are handed out first, so that
    no worker is left with a big site at the end while the others idle."""
    if workers == 1 or len(jobs) < 2:
        return [_fit_site(job) for job in jobs]
    # Spawned, not forked: the server refits from a thread of a process with other threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        largest_first = sorted(range(len(jobs)), key=lambda k: -len(jobs[k].arrivals))
        futures = {k: pool.submit(_fit_site, jobs[k]) for k in largest_first}
        return [futures[k].result() for k in range(len(jobs))]


def _fit_site(job: _SiteJob) -> list[pd.DataFrame]:
    """Select, fit and forecast each service of one site (a site's series share designs
    and fits in this process's caches, so a site stays in one process)."""
    parts = []
    hours = job.index[job.schedule.is_open(job.index)]
    for service, series in job.arrivals.groupby("service", sort=True):
        service = str(service)
        span = series["hour_start"].max() - history_start(series)
        name = (
            select_model(series, job.schedule, job.calendar)
            if span >= MIN_HISTORY
            else "weekday_hour_mean"
        )
        try:
            model = fit_or_fallback(name, series, job.schedule, job.calendar)
        except ModelError:  # not one open hour in its history: nothing to forecast from
            continue
        predicted = model.predict(hours)
        plan = job.plans.get(service, ServicePlan())
        parts.append(
            pd.DataFrame(
                {
                    "site": job.site,
                    "service": service,
                    "hour_start": hours,
                    "mean": predicted["mean"].to_numpy(),
                    "lo": predicted["lo80"].to_numpy(),
                    "hi": predicted["hi80"].to_numpy(),
                    "model": model.name,
                    "counters": float(plan.counters),
                    "service_min": plan.service_min,
                    "wait": np.nan,
                }
            )
        )
    if job.day_waits is not None and parts:
        _simulated_waits(parts, job.day_waits)
    return parts


def _simulated_waits(parts: list[pd.DataFrame], day_waits: DayWaits) -> None:
    """Fill the `wait` of one site's services (`parts`, one frame each, all with the same
    hours) day by day from `day_waits`."""
    starts = pd.DatetimeIndex(parts[0]["hour_start"])
    days = starts.normalize()
    for day in days.unique():
        rows = np.flatnonzero(days == day)
        waits = day_waits(
            pd.Timestamp(day).date(),
            [int(hour) for hour in starts[rows].hour],
            {str(part["service"].iat[0]): part["mean"].to_numpy()[rows] for part in parts},
        )
        for part in parts:
            part.loc[part.index[rows], "wait"] = waits[str(part["service"].iat[0])]


def _queue_waits(table: pd.DataFrame) -> np.ndarray:
    """The wait in each row's hour of its service's own queue at its plan, through the
    queue's day (`day_waits_min`). A closed hour between open ones has no arrivals."""
    starts = pd.DatetimeIndex(table["hour_start"])
    day = table.groupby(["site", "service", starts.normalize()], sort=False).ngroup().to_numpy()
    first = int(starts.hour.min())
    column = starts.hour.to_numpy() - first
    shape = (int(day.max()) + 1, int(column.max()) + 1)

    def grid(values: np.ndarray) -> np.ndarray:
        cells = np.full(shape, np.nan)
        cells[day, column] = values
        return pd.DataFrame(cells).ffill(axis=1).bfill(axis=1).to_numpy()

    arrivals = np.zeros(shape)
    arrivals[day, column] = table["mean"].to_numpy()
    waits = day_waits_min(
        arrivals,
        grid(table["counters"].to_numpy(dtype=float)),
        grid(table["service_min"].to_numpy(dtype=float)),
    )
    return waits[day, column]


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


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it): the default
    number of refit workers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
