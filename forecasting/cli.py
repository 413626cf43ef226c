"""`madoguchi forecast …`: backtests on an Arrivals CSV, forecast tables and their heat maps."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from display_server.i18n import FALLBACK_LANGUAGE, SUPPORTED_LANGUAGES
from forecasting.backtest import backtest
from forecasting.calendar import CalendarKind, detect_calendar
from forecasting.data import load_arrivals_csv
from forecasting.errors import ForecastError
from forecasting.plot import render_site_png
from forecasting.table import ServicePlan, available_cpus, fit_all


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `forecast` subcommands to the `madoguchi` command."""
    forecast = subparsers.add_parser("forecast", help="crowding forecasts by day and hour")
    commands = forecast.add_subparsers(dest="forecast_command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "backtest",
        help="score the models against baselines on an Arrivals CSV",
        description="Rolling-origin backtest (weekly origins, open hours only) of the forecast "
        "models and the weekday × hour mean and seasonal naive baselines; prints the contract's "
        "JSON (docs/forecasting.md).",
    )
    run.add_argument("--arrivals", type=Path, required=True, metavar="FILE")
    run.add_argument(
        "--test-start",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="first day scored (default: the last 20 %% of the span)",
    )
    run.add_argument("--horizon-days", type=int, default=14, metavar="N")
    run.add_argument("--out", type=Path, metavar="FILE", help="JSON output (default: stdout)")
    _calendar_option(run)
    run.set_defaults(handler=_backtest)

    fit = commands.add_parser(
        "fit",
        help="forecast arrivals, waits and crowding levels for the next weeks",
        description="Fit every (site, service) series and write the forecast table as CSV.",
    )
    fit.add_argument(
        "--arrivals",
        type=Path,
        metavar="FILE",
        help="Arrivals CSV (optional column site); default: the server database",
    )
    fit.add_argument(
        "--now",
        type=dt.datetime.fromisoformat,
        metavar="ISO",
        help="forecast from this local time (default: the day after the data)",
    )
    fit.add_argument("--horizon-days", type=int, default=14, metavar="N")
    fit.add_argument(
        "--counters",
        type=int,
        default=1,
        metavar="N",
        help="planned open counters per service (default: 1)",
    )
    fit.add_argument(
        "--service-minutes",
        type=float,
        default=10.0,
        metavar="M",
        help="mean service time (default: 10)",
    )
    fit.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes fitting the sites in parallel (default: one per CPU; with the server "
        "database, MADOGUCHI_FORECAST_WORKERS)",
    )
    fit.add_argument("--out", type=Path, metavar="FILE", help="CSV output (default: stdout)")
    _calendar_option(fit)
    fit.set_defaults(handler=_fit)

    show = commands.add_parser(
        "show",
        help="render one site's forecast as a PNG heat map",
        description="Render a forecast table (written by `forecast fit`) for one site.",
    )
    show.add_argument("--site", required=True, metavar="S")
    show.add_argument(
        "--forecast",
        type=Path,
        metavar="FILE",
        help="forecast CSV from `forecast fit`; default: the server database",
    )
    show.add_argument("--png", type=Path, metavar="FILE", help="write a heat map here")
    show.add_argument("--lang", choices=SUPPORTED_LANGUAGES, default=FALLBACK_LANGUAGE)
    show.set_defaults(handler=_show)


def _calendar_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calendar",
        choices=["auto", "jp", "none"],
        default="auto",
        help="calendar effects: Japanese holidays, 年末年始, moving season (jp) or none "
        "(for foreign data); auto (default): jp unless the arrivals show the office open on "
        "most Japanese holidays",
    )


def _calendar(args: argparse.Namespace, arrivals: pd.DataFrame) -> CalendarKind:
    """The calendar asked for, or the one the arrivals follow (`detect_calendar`), on stderr."""
    if args.calendar != "auto":
        calendar: CalendarKind = args.calendar
        return calendar
    detected = detect_calendar(arrivals)
    print(f"madoguchi forecast: calendar {detected} (detected from the arrivals)", file=sys.stderr)
    return detected


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"madoguchi forecast {command}: {message}", file=sys.stderr)
    return code


def _write(command: str, text: str, out: Path | None) -> int:
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(command, f"cannot write {out}: {exc}", code=1)
    return 0


def _backtest(args: argparse.Namespace) -> int:
    try:
        arrivals = load_arrivals_csv(args.arrivals)
        test_start = pd.Timestamp(args.test_start) if args.test_start else None
        result = backtest(
            arrivals,
            test_start=test_start,
            horizon_days=args.horizon_days,
            calendar=_calendar(args, arrivals),
        )
    except (ForecastError, OSError) as exc:
        return _fail("backtest", str(exc))
    return _write("backtest", json.dumps(result, indent=2) + "\n", args.out)


def _fit(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        return _fail("fit", "--workers must be at least 1")
    if args.arrivals is None:
        return _fit_database(args)
    if args.counters < 0 or args.service_minutes <= 0 or args.horizon_days < 1:
        return _fail("fit", "--counters must be >= 0, --service-minutes and --horizon-days > 0")
    try:
        arrivals = load_arrivals_csv(args.arrivals)
        now = args.now or arrivals["hour_start"].max().normalize() + pd.Timedelta(days=1)
        plan = ServicePlan(counters=args.counters, service_min=args.service_minutes)
        series = arrivals[["site", "service"]].drop_duplicates().itertuples(index=False)
        table = fit_all(
            arrivals,
            None,
            now,
            horizon_days=args.horizon_days,
            plans={(s.site, s.service): plan for s in series},
            calendar=_calendar(args, arrivals),
            workers=args.workers or available_cpus(),
        )
    except (ForecastError, OSError) as exc:
        return _fail("fit", str(exc))
    table["hour_start"] = pd.DatetimeIndex(table["hour_start"]).strftime("%Y-%m-%dT%H:%M")
    return _write("fit", table.to_csv(index=False), args.out)


def _fit_database(args: argparse.Namespace) -> int:
    """Refit every series from the server's event log and store the forecasts there."""
    from display_server import forecast_service
    from display_server.config import load_config
    from display_server.errors import ConfigError
    from display_server.settings import Clock, Settings
    from display_server.store.db import make_engine, make_sessionmaker, upgrade

    settings = Settings()
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        return _fail("fit", "; ".join(exc.problems))
    now = Clock(settings.clock_start).now()
    if args.now is not None:
        now = args.now.replace(tzinfo=args.now.tzinfo or config.policy.zone)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        stored = forecast_service.refit(
            config,
            make_sessionmaker(engine),
            make_sessionmaker(engine, writer=True),
            now=now,
            workers=args.workers or forecast_service.refit_workers(settings),
        )
    except ForecastError as exc:
        return _fail("fit", str(exc))
    finally:
        engine.dispose()
    sys.stdout.write(f"{stored} forecast hours stored in the server database\n")
    return 0


def _stored_table(site: str) -> pd.DataFrame:
    """The server's stored forecast for `site` from today on, local times without zone."""
    from display_server.config import load_config
    from display_server.settings import Clock, Settings
    from display_server.store import forecasts as forecast_store
    from display_server.store.db import make_engine, make_sessionmaker

    settings = Settings()
    config = load_config(settings.config_path)
    if config.site(site) is None:
        raise KeyError(f"unknown site {site!r}")
    zone = config.policy.zone
    start = (
        Clock(settings.clock_start)
        .now()
        .astimezone(zone)
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = forecast_store.forecasts_between(
                session, site=site, start=start, end=start + dt.timedelta(days=28)
            )
    finally:
        engine.dispose()
    if not rows:
        raise KeyError(f"no stored forecast for {site!r}: run `madoguchi forecast fit` first")
    return pd.DataFrame(
        {
            "site": site,
            "service": [r.service for r in rows],
            "hour_start": [r.hour_start.astimezone(zone).replace(tzinfo=None) for r in rows],
            "arrivals": [r.arrivals for r in rows],
            "lo": [r.lo for r in rows],
            "hi": [r.hi for r in rows],
            "est_wait_min": [r.est_wait_min for r in rows],
            "level": [r.level for r in rows],
        }
    )


def _show(args: argparse.Namespace) -> int:
    try:
        table = (
            _stored_table(args.site)
            if args.forecast is None
            else pd.read_csv(args.forecast, parse_dates=["hour_start"])
        )
        site = table[table["site"].astype(str) == args.site]
        if args.png is None:
            sys.stdout.write(site.to_string(index=False) + "\n")
            return 0
        png = render_site_png(
            table.assign(site=table["site"].astype(str)), args.site, lang=args.lang
        )
        args.png.write_bytes(png)
    except (ForecastError, OSError, ValueError, KeyError, SQLAlchemyError) as exc:
        return _fail("show", str(exc))
    return 0
