"""The forecast table: every series fitted, forecast, and turned into waits and levels."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.backtest import MIN_HISTORY, fit_or_fallback, select_model
from forecasting.calendar import CalendarKind
from forecasting.crowding import DEFAULT_THRESHOLDS, Thresholds, crowding_levels, day_waits_min
from forecasting.errors import DataError, ModelError
from forecasting.models import history_start
from forecasting.schedule import OpeningSchedule, infer_schedule

__all__ = ["TABLE_COLUMNS", "ServicePlan", "available_cpus", "fit_all"]

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
    workers: int = 1,
) -> pd.DataFrame:
    """Forecast every (site, service) of an hourly frame from the start of `now`'s day.

    Only hours before `now` are used. Each series gets the model chosen by `select_model` on
    three weekly origins before its end (the weekday × hour mean when it has less than four
    weeks). `schedules` is one schedule for all sites, one per site, or None to infer each
    site's from its arrivals. Returns the open hours only, columns `TABLE_COLUMNS`; `lo`/`hi`
    bound the 80 % interval of arrivals, `est_wait_min` is the mean wait of the hour's arrivals
    in the service's queue (`ServicePlan.pool`) through its day (`crowding.day_waits_min`).
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
        )
        for site, rows in train.groupby("site", sort=True)
    ]
    parts = [part for site_parts in _run(jobs, workers) for part in site_parts]
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    wait = _queue_waits(table)
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
                    "queue": plan.pool or f"\x1f{service}",
                    "counters": plan.counters_at(hours),
                    "work": predicted["mean"].to_numpy() * plan.service_min,
                }
            )
        )
    return parts


def _queue_waits(table: pd.DataFrame) -> np.ndarray:
    """The wait of each row's queue (a service, or the pool it shares counters with) in its
    hour, through the queue's day (`day_waits_min`): all the queue's arrivals, at the queue's
    counters, in their arrival-weighted mean service time. A closed hour between open ones
    has no arrivals and keeps the counters of the hour before."""
    keys = ["site", "queue", "hour_start"]
    queues = table.groupby(keys, sort=False).agg(
        arrivals=("mean", "sum"), work=("work", "sum"), counters=("counters", "first")
    ).reset_index()
    starts = pd.DatetimeIndex(queues["hour_start"])
    day = queues.groupby(["site", "queue", starts.normalize()], sort=False).ngroup().to_numpy()
    first = int(starts.hour.min())
    column = starts.hour.to_numpy() - first
    shape = (int(day.max()) + 1, int(column.max()) + 1)

    def grid(values: np.ndarray) -> pd.DataFrame:
        cells = np.full(shape, np.nan)
        cells[day, column] = values
        return pd.DataFrame(cells)

    arrivals = queues["arrivals"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        service = np.where(arrivals > 0, queues["work"].to_numpy() / arrivals, np.nan)
    waits = day_waits_min(
        grid(arrivals).fillna(0.0).to_numpy(),
        grid(queues["counters"].to_numpy()).ffill(axis=1).fillna(0.0).to_numpy(),
        grid(service).ffill(axis=1).bfill(axis=1).fillna(1.0).to_numpy(),
    )
    queues["wait"] = waits[day, column]
    return table[keys].merge(queues[[*keys, "wait"]], on=keys, how="left")["wait"].to_numpy()


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
