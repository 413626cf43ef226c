"""Crowding forecasts for the server: the event log in, the stored forecast table out.

Tickets joining a service's line (events `issued`, `transferred` to it, and `routed` to a
route's next service) become hourly arrivals per site and service; the ward configuration
gives each site's opening schedule (hours up to the reception cut-off, closed dates, holidays)
and its counters, at which the expected waits are simulated (`forecast_waits`);
`forecasting.fit_all` fits every series and the table replaces the stored one. `refit_nightly`
keeps it fresh; pages read it back through `site_hours` and `best_hours`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import jpholiday
import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from display_server.config import WEEKDAYS, OpeningHours, Site, WardConfig
from display_server.core.tickets import EventType
from display_server.forecast_waits import CounterSimulation
from display_server.office import SERVICE_HISTORY
from display_server.runtime import Runtime
from display_server.settings import Settings
from display_server.store import events as event_store
from display_server.store import forecasts as forecast_store
from display_server.store.models import EventRow, ForecastRow
from forecasting import (
    DataError,
    OpeningSchedule,
    Thresholds,
    available_cpus,
    fit_all,
    hourly_from_events,
)
from forecasting.crowding import crowding_levels

log = logging.getLogger("madoguchi.forecast")

#: The GLMs weight the last 52 weeks; one more gives the year-ago week its neighbours.
HISTORY = dt.timedelta(weeks=53)
#: The API serves up to 28 days ahead, so that is what every fit forecasts.
HORIZON_DAYS = 28
#: How often the refit loop looks at the clock; a refit happens at the first look of a day.
REFIT_CHECK_S = 600.0


def open_hours(hours: OpeningHours) -> range:
    """Hour starts in which tickets are taken: from the opening to the reception cut-off."""
    last = hours.cutoff.hour + (1 if (hours.cutoff.minute or hours.cutoff.second) else 0)
    return range(hours.open.hour, last)


def closed_reason(config: WardConfig, site: Site, day: dt.date) -> str | None:
    """Why `site` is closed all day (`closed_date`, `holiday`, `weekly`), or None when open.

    The same order as `WardConfig.is_closed_day`, so a holiday inside 年末年始 says 年末年始.
    """
    if day.strftime("%m-%d") in config.policy.closed_dates:
        return "closed_date"
    if config.policy.closed_on_holidays and jpholiday.is_holiday(day):
        return "holiday"
    return "weekly" if site.hours_on(day) is None else None


def schedule_for(config: WardConfig, site: Site, first: dt.date, last: dt.date) -> OpeningSchedule:
    """The site's configured schedule, with its closed days from `first` to `last` listed.

    Closed days are spelled out from the configuration (rather than the forecasting package's
    own holiday rule) so that `closed_dates` and `closed_on_holidays` mean exactly what they
    mean for ticket issuing.
    """
    ranges = {
        WEEKDAYS.index(day): [(span.start, span.stop)]
        for day, hours in site.hours.items()
        if (span := open_hours(hours))
    }
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    closed = [day for day in days if config.is_closed_day(day)]
    return OpeningSchedule.from_ranges(ranges, closed_dates=closed, closed_on_holidays=False)


def without_ticketless_days(
    schedule: OpeningSchedule, arrivals: pd.DataFrame, *, before: dt.date
) -> OpeningSchedule:
    """`schedule` with the days closed on which the site issued no ticket at all, from its
    first ticket in `arrivals` (its hourly rows) to the day before `before`.

    A whole site without one ticket on a day it was to open was closed, or its kiosks or
    this server were down (a typhoon, an outage): not a demand of zero. Fitted as open, such
    a day lowered every model's forecast of its weekday and, by `forecasting.glm`'s pause
    rule, made every busy service look stopped, so the calendar said "quiet" everywhere until
    the next refit. A CSV's inferred schedule treats such days alike (`infer_schedule`). The
    day `before` and later are left as configured: today may have had no ticket yet.
    """
    per_day = arrivals.groupby(pd.DatetimeIndex(arrivals["hour_start"]).normalize())["count"].sum()
    issued = pd.DatetimeIndex(per_day.index[per_day.to_numpy() > 0])
    if issued.empty:
        return schedule
    days = pd.date_range(issued.min(), pd.Timestamp(before), freq="D", inclusive="left")
    ticketless = {day.date() for day in days.difference(issued)}
    return replace(schedule, closed_dates=schedule.closed_dates | ticketless)


def fit_ward(
    session: Session, *, config: WardConfig, now: dt.datetime, workers: int = 1
) -> pd.DataFrame:
    """Forecast every configured series from the event log; `hour_start` is aware local time.

    A series' arrivals are the tickets issued for the service, those transferred to it, and
    those routed to it from the step before on their route: all wait in its line.

    `workers` processes fit the sites (`forecasting.fit_all`). Raises `forecasting.DataError`
    when no ticket was issued in the history window.
    """
    zone = config.policy.zone
    local_now = now.astimezone(zone)
    first = (local_now - HISTORY).date()
    last = local_now.date() + dt.timedelta(days=HORIZON_DAYS)
    known = {(site.id, service.id) for site in config.sites for service in site.services}
    window = (EventRow.at >= dt.datetime.combine(first, dt.time(), zone), EventRow.at < now)
    # Issued for the service, or transferred to it (it joins that line, in its place).
    issued = session.execute(
        select(EventRow.site, EventRow.service, EventRow.at).where(
            EventRow.type.in_([EventType.ISSUED.value, EventType.TRANSFERRED.value]), *window
        )
    ).all()
    # A route's next step joins that service's line when the step before it is done.
    routed = session.execute(
        select(EventRow.site, EventRow.data, EventRow.at).where(
            EventRow.type == EventType.ROUTED.value, *window
        )
    ).all()
    joined = [
        *((row.site, row.service, row.at) for row in issued),
        *((row.site, row.data.get("next_service"), row.at) for row in routed),
    ]
    events = pd.DataFrame(
        [row for row in joined if (row[0], row[1]) in known],
        columns=["site", "service", "issued_at"],
    )
    if events.empty:
        raise DataError(f"no tickets issued since {first}")
    events["issued_at"] = pd.to_datetime(events["issued_at"], utc=True)
    arrivals = hourly_from_events(
        events,
        start=pd.Timestamp(first),
        end=pd.Timestamp(local_now.date() + dt.timedelta(days=1)),
        tz=config.policy.timezone,
    )
    schedules, simulations = {}, {}
    since = now - SERVICE_HISTORY
    for site in config.sites:
        schedules[site.id] = without_ticketless_days(
            schedule_for(config, site, first, last),
            arrivals[arrivals["site"] == site.id],
            before=local_now.date(),
        )
        observed = event_store.visit_counter_minutes(session, site=site.id, since=since)
        simulations[site.id] = CounterSimulation(site, observed)
    table = fit_all(
        arrivals,
        schedules,
        pd.Timestamp(local_now.replace(tzinfo=None)),
        horizon_days=HORIZON_DAYS,
        thresholds=Thresholds.from_sequence(config.policy.level_thresholds_min),
        workers=workers,
        day_waits=simulations,
    )
    table["hour_start"] = pd.DatetimeIndex(table["hour_start"]).tz_localize(zone)
    return table


def refit(
    config: WardConfig,
    sessions: sessionmaker[Session],
    writer_sessions: sessionmaker[Session],
    *,
    now: dt.datetime,
    workers: int = 1,
) -> int:
    """Fit the whole ward and replace the stored forecasts; returns the rows stored.

    Reading and fitting take seconds, so they happen outside the write transaction (on SQLite
    that would hold up every ticket being issued).
    """
    began = time.monotonic()
    with sessions() as session:
        table = fit_ward(session, config=config, now=now, workers=workers)
    columns = ["service", "hour_start", "arrivals", "lo", "hi", "est_wait_min", "level", "model"]
    stored = 0
    with writer_sessions() as session:
        for site in config.sites:
            part = table.loc[table["site"] == site.id, columns]
            records = [
                {**row, "hour_start": row["hour_start"].to_pydatetime()}
                for row in part.to_dict("records")
            ]
            stored += forecast_store.replace_site_forecasts(
                session, site=site.id, rows=records, fitted_at=now
            )
        forecast_store.record_fit(session, fitted_at=now, config_digest=config_digest(config))
        session.commit()
    log.info("forecasts refitted: %d hours stored in %.1f s", stored, time.monotonic() - began)
    return stored


def config_digest(config: WardConfig) -> str:
    """A digest of the whole configuration: hours, services, counters, the counter plans and
    the policy all shape the forecast's hours and waits."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


def refit_workers(settings: Settings) -> int:
    """Processes for a refit: `Settings.forecast_workers`, 0 meaning one per CPU."""
    return settings.forecast_workers or available_cpus()


def refit_if_stale(runtime: Runtime) -> bool:
    """Refit unless the stored forecasts were fitted today (local time) with this
    configuration, or another process is refitting them now; True if it did."""
    now = runtime.now()
    zone = runtime.config.policy.zone
    with runtime.engine.connect() as connection, forecast_store.refit_lock(connection) as mine:
        if not mine:
            log.info("another process is refitting the forecasts")
            return False
        with runtime.sessions() as session:
            fitted = forecast_store.last_fitted(session)
            digest = forecast_store.last_fit_digest(session)
        today = now.astimezone(zone).date()
        if fitted is not None and fitted.astimezone(zone).date() >= today:
            if digest == config_digest(runtime.config):
                return False
            log.info("the configuration changed since the last refit: refitting")
        runtime.forecast_refitting.set()
        try:
            refit(
                runtime.config,
                runtime.sessions,
                runtime.writer_sessions,
                now=now,
                workers=refit_workers(runtime.settings),
            )
        finally:
            runtime.forecast_refitting.clear()
    return True


async def refit_nightly(runtime: Runtime) -> None:
    """Background task: refit once a day, soon after local midnight (and at start if stale).

    One attempt per day: a failure (e.g. no tickets yet) is logged and retried the next day
    rather than every few minutes over a year of events.
    """
    attempted: dt.date | None = None
    while True:
        today = runtime.now().astimezone(runtime.config.policy.zone).date()
        if attempted != today:
            attempted = today
            try:
                await run_in_threadpool(refit_if_stale, runtime)
            except DataError as exc:
                log.info("no forecast refit: %s", exc)
            except Exception:  # keep the loop alive; tomorrow retries
                log.exception("forecast refit failed")
        await asyncio.sleep(REFIT_CHECK_S)


@dataclass(frozen=True)
class HourForecast:
    """One hour of one service, or of the whole site (arrivals summed, waits weighted)."""

    hour_start: dt.datetime
    arrivals: float
    est_wait_min: float
    level: str


def site_hours(
    rows: Iterable[ForecastRow], *, config: WardConfig, service: str | None = None
) -> dict[dt.datetime, HourForecast]:
    """Stored rows per local hour: one service's, or with None the site's as a whole.

    The site's wait is the arrivals-weighted mean of its services' waits: what a visitor
    picked at random would wait, where the worst service would paint every hour busy.
    """
    zone = config.policy.zone
    frame = pd.DataFrame(
        [
            (r.hour_start.astimezone(zone), r.arrivals, r.est_wait_min or 0.0, r.level)
            for r in rows
            if service is None or r.service == service
        ],
        columns=["hour_start", "arrivals", "wait", "level"],
    )
    if frame.empty:
        return {}
    if service is not None:
        return {
            r.hour_start: HourForecast(r.hour_start, r.arrivals, r.wait, r.level)
            for r in frame.itertuples(index=False)
        }
    frame["weighted"] = frame["wait"] * frame["arrivals"]
    sums = frame.groupby("hour_start")[["arrivals", "weighted"]].sum()
    arrivals = sums["arrivals"].to_numpy()
    waits = np.divide(sums["weighted"].to_numpy(), arrivals, out=np.zeros(len(sums)),
                      where=arrivals > 0)
    levels = crowding_levels(waits, Thresholds.from_sequence(config.policy.level_thresholds_min))
    return {
        hour.to_pydatetime(): HourForecast(hour.to_pydatetime(), float(n), round(float(w), 1), lv)
        for hour, n, w, lv in zip(sums.index, arrivals, waits, levels, strict=True)
    }


def best_hours(
    hours: dict[dt.datetime, HourForecast], *, now: dt.datetime, days: int = 7, limit: int = 3
) -> Sequence[HourForecast]:
    """The quietest hour of each day from now to `days` ahead (shortest wait, then fewest
    arrivals, then soonest), the best `limit` of those days, in time order for reading.

    One per day, because the three quietest hours of a week are often one afternoon.
    """
    end = now + dt.timedelta(days=days)
    best: dict[dt.date, HourForecast] = {}
    for hour in sorted(hours.values(), key=lambda h: (h.est_wait_min, h.arrivals, h.hour_start)):
        if now <= hour.hour_start < end:
            best.setdefault(hour.hour_start.date(), hour)
    ranked = sorted(best.values(), key=lambda h: (h.est_wait_min, h.arrivals, h.hour_start))
    return sorted(ranked[:limit], key=lambda h: h.hour_start)
