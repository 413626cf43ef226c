"""The public open-data feed: live and hourly congestion per site and service (CC BY 4.0).

One long table in both formats, so `pandas.read_json(url)` and `pandas.read_csv(url)` give the
same frame: `record` is "live" (the snapshot now) or "hourly" (history). Counts and minutes only:
no tokens, ticket ids or numbers. See docs/opendata.md for the schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from display_server import office
from display_server.api.deps import RuntimeDep, SessionDep
from display_server.core import rules, stats
from display_server.runtime import Runtime, site_status
from display_server.store.stats import event_records
from display_server.views import CSV_MEDIA_TYPE, spreadsheet_csv

router = APIRouter(prefix="/api/v1/opendata", tags=["open data"])

LICENSE = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
COLUMNS = (
    "record",
    "site",
    "site_name_ja",
    "site_name_en",
    "service",
    "service_name_ja",
    "service_name_en",
    "hour_start",
    "arrivals",
    "mean_wait_min",
    "waiting",
    "est_wait_min",
    "est_wait_max",
    "level",
    "updated_at",
    "license",
)
#: Clients may reuse a response this long; see `congestion` for when the ETag changes.
MAX_AGE_S = 60
Days = Annotated[int, Query(ge=1, le=31, description="days of hourly history, today included")]
SiteFilter = Annotated[str | None, Query(min_length=1, max_length=40)]


def congestion(
    session: Session, runtime: Runtime, now: dt.datetime, days: int, site_id: str | None
) -> list[dict[str, Any]]:
    """The feed's rows: one live row per site and service, then hourly history rows.

    Estimates are computed for the start of the current minute (they drift with the clock
    while someone is being served), so the body, and its ETag, change only when the data does
    or a minute passes; counts and history are read as they are now."""
    config = runtime.config
    zone = config.policy.zone
    minute = now.replace(second=0, microsecond=0)
    sites = [office.find_site(config, site_id)] if site_id else list(config.sites)
    updated = minute.astimezone(zone).isoformat(timespec="seconds")
    common = {"updated_at": updated, "license": LICENSE}
    names = {(s.id, v.id): (s, v) for s in sites for v in s.services}
    rows: list[dict[str, Any]] = []

    def base(site_key: str, service_key: str) -> dict[str, Any]:
        site, service = names[(site_key, service_key)]
        return {
            "site": site.id,
            "site_name_ja": site.name.ja,
            "site_name_en": site.name.en,
            "service": service.id,
            "service_name_ja": service.name.ja,
            "service_name_en": service.name.en,
        }

    for site in sites:
        status = site_status(runtime, session, site, minute)
        for service in status["services"]:
            rows.append(
                {
                    **dict.fromkeys(COLUMNS),
                    "record": "live",
                    **base(site.id, service["id"]),
                    "waiting": service["waiting"],
                    "est_wait_min": service["est_wait_min"],
                    "est_wait_max": service["est_wait_max"],
                    "level": service["level"],
                    **common,
                }
            )
    today = rules.business_date(config, now)
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), zone)
    records = event_records(session, sites=[s.id for s in sites], start=start, end=now)
    cells = stats.cells(
        records,
        zone,
        lambda p: (p.site, p.service, p.date, p.hour) if (p.site, p.service) in names else None,
    )
    hours = {cast(tuple[str, str, dt.date, int], key): cell for key, cell in cells.items()}
    for (site_key, service_key, day, hour), cell in sorted(hours.items()):
        mean = stats.summarise(cell.waits).mean
        rows.append(
            {
                **dict.fromkeys(COLUMNS),
                "record": "hourly",
                **base(site_key, service_key),
                "hour_start": dt.datetime.combine(day, dt.time(hour), zone).isoformat(),
                "arrivals": cell.arrivals,
                "mean_wait_min": None if mean is None else round(mean, 1),
                **common,
            }
        )
    return rows


def _cached(request: Request, body: bytes, media_type: str) -> Response:
    """The body with an ETag and Cache-Control, or 304 when the client already has it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE_S}",
        "Link": f'<{LICENSE_URL}>; rel="license"',
        "Access-Control-Allow-Origin": "*",
    }
    presented = request.headers.get("if-none-match", "")
    if etag in (tag.strip().removeprefix("W/") for tag in presented.split(",")) or presented == "*":
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/congestion.json")
def congestion_json(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    days: Days = 7,
    site: SiteFilter = None,
) -> Response:
    """Live and hourly congestion as a JSON array of flat records (see docs/opendata.md)."""
    rows = congestion(session, runtime, runtime.now(), days, site)
    body = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    return _cached(request, body, "application/json")


@router.get("/congestion.csv")
def congestion_csv(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    days: Days = 7,
    site: SiteFilter = None,
) -> Response:
    """The same records as CSV (UTF-8 with a BOM, so spreadsheet software reads the Japanese)."""
    rows = congestion(session, runtime, runtime.now(), days, site)
    return _cached(request, spreadsheet_csv(rows, COLUMNS), CSV_MEDIA_TYPE)
