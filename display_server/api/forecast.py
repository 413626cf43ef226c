"""The crowding forecast: `GET /api/v1/sites/{site}/forecast` and the site page's calendar.

Both read the stored table (see `display_server.forecast_service`) and drop any hour the current
configuration has closed since the fit, so a closure added today never shows as open.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import jpholiday
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from display_server import office
from display_server.api.deps import ConfigDep, RuntimeDep, SessionDep
from display_server.config import WEEKDAYS, Site, WardConfig
from display_server.forecast_service import (
    best_hours,
    closed_reason,
    open_hours,
    schedule_for,
    site_hours,
)
from display_server.i18n import Translator
from display_server.runtime import Runtime
from display_server.store import forecasts as forecast_store
from display_server.store.models import ForecastRow
from forecasting.crowding import LEVELS

router = APIRouter(prefix="/api/v1", tags=["forecast"])

MAX_DAYS = 28
#: Level symbols, repeating the word (never colour alone); the same as the live table's.
#: `off`: the hour is outside that day's reception hours; `none`: no forecast for it; `past`:
#: today's hour is over (its forecast no longer helps anyone plan a visit).
SYMBOLS = {
    "quiet": "○", "moderate": "△", "busy": "▲", "very_busy": "■", "off": "—", "none": "?",
    "past": "·",
}


def parse_start(value: str | None, today: dt.date) -> dt.date:
    """`start` as a date; the API's 422 shape names the parameter when it is not one."""
    if value is None:
        return today
    # fromisoformat alone would also take "20261201" and week dates ("2026-W49-2").
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise RequestValidationError([{
        "loc": ("query", "start"), "type": "date_parsing",
        "msg": f"start must be a date written YYYY-MM-DD, e.g. {today.isoformat()}",
    }])


def _read(
    session: Session, config: WardConfig, site: Site, first: dt.date, days: int
) -> list[ForecastRow]:
    """Stored rows of `days` days from `first`, minus hours that are closed by now."""
    zone = config.policy.zone
    last = first + dt.timedelta(days=days - 1)
    rows = forecast_store.forecasts_between(
        session, site=site.id, start=dt.datetime.combine(first, dt.time(), zone),
        end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone),
    )
    schedule = schedule_for(config, site, first, last)
    local = pd.DatetimeIndex([r.hour_start.astimezone(zone).replace(tzinfo=None) for r in rows])
    return [row for row, is_open in zip(rows, schedule.is_open(local), strict=True) if is_open]


def _simulated(session: Session, runtime: Runtime) -> bool:
    return runtime.settings.demo and forecast_store.has_simulated_history(session)


@router.get("/sites/{site}/forecast")
def get_forecast(
    site: str,
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    start: Annotated[str | None, Query(description="first day, YYYY-MM-DD (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="how many days")] = 7,
) -> dict[str, Any]:
    """Expected arrivals (80 % interval), wait and crowding level per service and open hour.

    Hours not listed are closed (no arrivals expected); `dates` says which days are closed and
    why (`weekly`, `holiday`, `closed_date`).
    """
    found = office.find_site(config, site)
    zone = config.policy.zone
    first = parse_start(start, runtime.now().astimezone(zone).date())
    dates = [first + dt.timedelta(days=n) for n in range(days)]
    rows = _read(session, config, found, first, days)
    fitted = forecast_store.last_fitted(session)
    return {
        "site": found.id,
        "start": first.isoformat(),
        "days": days,
        "fitted_at": fitted.isoformat() if fitted else None,
        "simulated_history": _simulated(session, runtime),
        "dates": [
            {"date": day.isoformat(), "open": reason is None, "closed_reason": reason}
            for day in dates
            for reason in [closed_reason(config, found, day)]
        ],
        "forecast": [
            {
                "service": row.service,
                "hour_start": row.hour_start.astimezone(zone).isoformat(),
                "arrivals": row.arrivals,
                "lo": row.lo,
                "hi": row.hi,
                "est_wait_min": row.est_wait_min,
                "level": row.level,
            }
            for row in rows
        ],
    }


def calendar_view(request: Request, site: Site, _: Translator) -> dict[str, Any]:
    """What the site page's forecast calendar shows (a Jinja global: see `app.create_app`).

    Query parameters of the page: `service` (one service, default the whole site) and `weeks`
    (2 or 4).
    """
    runtime: Runtime = request.app.state.runtime
    config = runtime.config
    zone = config.policy.zone
    now = runtime.now().astimezone(zone)
    weeks = 4 if request.query_params.get("weeks") == "4" else 2
    wanted = request.query_params.get("service")
    service = wanted if wanted and site.service(wanted) else None
    columns = sorted({h for hours in site.hours.values() for h in open_hours(hours)})
    with runtime.sessions() as session:
        rows = _read(session, config, site, now.date(), weeks * 7)
        fitted = forecast_store.last_fitted(session)
        simulated = _simulated(session, runtime)
    hours = site_hours(rows, config=config, service=service)
    days: list[dict[str, Any]] = []
    for n in range(weeks * 7):
        day = now.date() + dt.timedelta(days=n)
        reason = closed_reason(config, site, day)
        if reason == "weekly":
            continue  # regular closed weekdays are said once, above the table
        opening = site.hours_on(day)
        day_hours = open_hours(opening) if opening else range(0)
        cells: list[dict[str, Any]] = []
        for hour in columns:
            start = dt.datetime.combine(day, dt.time(hour), zone)
            forecast = hours.get(start)
            if hour in day_hours and start + dt.timedelta(hours=1) <= now:
                cells.append({"level": "past", "wait": None})
            elif forecast is not None:
                cells.append({"level": forecast.level, "wait": round(forecast.est_wait_min)})
            else:
                cells.append({"level": "none" if hour in day_hours else "off", "wait": None})
        days.append({"date": day, "label": _date_label(_, day), "closed": reason,
                     "holiday": _holiday_name(day) if reason == "holiday" else None,
                     "cells": cells, "week_start": day.weekday() == 0})
    return {
        "service": service, "weeks": weeks, "columns": columns, "days": days,
        "has_data": bool(hours), "simulated": simulated,
        "refitting": runtime.forecast_refitting.is_set(),
        "has_past": any(c["level"] == "past" for d in days for c in d["cells"]),
        "fitted_at": fitted.astimezone(zone).strftime("%Y-%m-%d %H:%M") if fitted else None,
        "best": [
            {"label": _date_label(_, h.hour_start.date()), **_reception_window(site, h.hour_start),
             "level": h.level, "wait": round(h.est_wait_min)}
            for h in best_hours(hours, now=now)
        ],
        "closed_weekdays": _("forecast.list_sep").join(
            _(f"forecast.weekday.{n}") for n, key in enumerate(WEEKDAYS) if key not in site.hours
        ),
        "levels": LEVELS, "symbols": SYMBOLS,
        "thresholds": [round(t) for t in config.policy.level_thresholds_min],
    }


def _reception_window(site: Site, hour_start: dt.datetime) -> dict[str, str]:
    """The part of a forecast hour in which tickets are taken, as `start` and `end` (HH:MM):
    a site opening at 08:30 takes none from 8:00, and one with a 16:45 cut-off none after it."""
    start, end = hour_start, hour_start + dt.timedelta(hours=1)
    hours = site.hours_on(hour_start.date())
    if hours is not None:
        day = hour_start.date()
        start = max(start, dt.datetime.combine(day, hours.open, hour_start.tzinfo))
        end = min(end, dt.datetime.combine(day, hours.cutoff, hour_start.tzinfo))
    return {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}


def _date_label(_: Translator, day: dt.date) -> str:
    return _("forecast.date", month=day.month, day=day.day,
             weekday=_(f"forecast.weekday.{day.weekday()}"))


def _holiday_name(day: dt.date) -> str | None:
    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None
