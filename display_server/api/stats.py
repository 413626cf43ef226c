"""Statistics for process review: administrators see every site, floor managers their own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from display_server import office
from display_server.api.deps import ConfigDep, PrincipalDep, RuntimeDep, SessionDep
from display_server.config import WardConfig
from display_server.core import rules
from display_server.errors import MadoguchiError
from display_server.security import Principal, Role, require
from display_server.store import stats as stats_store
from display_server.views import CSV_MEDIA_TYPE, spreadsheet_csv

router = APIRouter(prefix="/api/v1", tags=["statistics"])

#: A year at most: the report is computed from the raw event log on each request.
MAX_DAYS = 366
DEFAULT_DAYS = 7
#: Far outside any log, and keeps date arithmetic clear of date.min / date.max.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
DateQuery = Annotated[dt.date | None, Query(description="YYYY-MM-DD, local date")]
IdQuery = Annotated[str | None, Query(min_length=1, max_length=40)]


class BadPeriod(MadoguchiError):
    """The date range is reversed, too long or out of bounds, or the service unknown (400)."""


def period(
    config: WardConfig, now: dt.datetime, start: dt.date | None, end: dt.date | None
) -> stats_store.Period:
    """The requested days; by default the last week up to today."""
    last = end or rules.business_date(config, now)
    first = start or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first < EARLIEST or last > LATEST:
        raise BadPeriod(f"choose dates between {EARLIEST} and {LATEST}")
    if first > last:
        raise BadPeriod(f"the start {first} is after the end {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(f"choose at most {MAX_DAYS} days")
    return stats_store.Period.of(config, first, last)


def visible_sites(
    config: WardConfig, principal: Principal | None, site: str | None, service: str | None
) -> list[str]:
    """The sites the principal may review (a floor manager only their own), narrowed to `site`."""
    who = require(principal, Role.FLOOR, site=site)
    if site is not None:
        found = [office.find_site(config, site).id]
    elif who.role is Role.ADMIN or who.site is None:
        found = [s.id for s in config.sites]
    else:
        found = [who.site]
    known = {v.id for s in config.sites if s.id in found for v in s.services}
    if service is not None and service not in known:
        raise BadPeriod(f"unknown service {service!r} at the chosen site(s)")
    return found


@router.get("/stats")
def get_stats(
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    principal: PrincipalDep,
    start: DateQuery = None,
    end: DateQuery = None,
    site: IdQuery = None,
    service: IdQuery = None,
) -> dict[str, Any]:
    """Arrivals, waits, service times, no-shows, utilisation and journeys (minutes)."""
    sites = visible_sites(config, principal, site, service)
    chosen = period(config, runtime.now(), start, end)
    return stats_store.report(
        session, config=config, sites=sites, period=chosen, service=service, now=runtime.now()
    )


def csv_response(rows: list[dict[str, Any]], filename: str) -> Response:
    return Response(
        spreadsheet_csv(rows, stats_store.CSV_COLUMNS),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/stats.csv")
def get_stats_csv(
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    principal: PrincipalDep,
    start: DateQuery = None,
    end: DateQuery = None,
    site: IdQuery = None,
    service: IdQuery = None,
) -> Response:
    """One row per date, hour, site and service (UTF-8 with BOM for spreadsheets)."""
    sites = visible_sites(config, principal, site, service)
    chosen = period(config, runtime.now(), start, end)
    rows = stats_store.csv_rows(session, config=config, sites=sites, period=chosen, service=service)
    return csv_response(rows, f"madoguchi-stats-{chosen.first}-{chosen.last}.csv")
