"""Statistics reports: events read from the log, then the pure maths of core.stats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from display_server.config import WardConfig
from display_server.core import stats
from display_server.store.models import EventRow

#: Columns of the CSV export, one row per local date, hour, site and service.
CSV_COLUMNS = (
    "date",
    "hour",
    "site",
    "service",
    "arrivals",
    "called",
    "no_shows",
    "no_show_rate",
    "wait_n",
    "wait_mean",
    "wait_median",
    "wait_p90",
    "service_n",
    "service_mean",
    "service_median",
)


def event_records(
    session: Session, *, sites: Sequence[str] | None, start: dt.datetime, end: dt.datetime
) -> list[stats.EventRecord]:
    """The events of `sites` (all when None) with `start <= at < end`, in log order."""
    query = select(
        EventRow.site,
        EventRow.type,
        EventRow.at,
        EventRow.ticket_id,
        EventRow.service,
        EventRow.counter,
        EventRow.data,
    ).where(EventRow.at >= start, EventRow.at < end)
    if sites is not None:
        query = query.where(EventRow.site.in_(sites))
    records = []
    for site, kind, at, ticket_id, service, counter, data in session.execute(
        query.order_by(EventRow.site, EventRow.seq)
    ):
        data = data or {}
        records.append(
            stats.EventRecord(
                site=site,
                type=kind,
                at=at,
                ticket_id=ticket_id,
                service=service,
                counter=counter,
                route_len=len(data.get("route") or ()) or 1,
                next_service=data.get("next_service"),
            )
        )
    return records


@dataclass(frozen=True)
class Period:
    """Local calendar days `first` to `last` inclusive, with the instants that bound them."""

    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, config: WardConfig, first: dt.date, last: dt.date) -> Period:
        zone = config.policy.zone
        start = dt.datetime.combine(first, dt.time(), zone)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
        return cls(first, last, start, end)


def _rows(grouped: dict[Hashable, stats.Cell], names: Sequence[str]) -> list[dict[str, Any]]:
    """Flat rows, sorted by their group; every key given to stats.cells here is a tuple."""
    keyed = {key: cell for key, cell in grouped.items() if isinstance(key, tuple)}
    return [{**dict(zip(names, key, strict=True)), **keyed[key].row()} for key in sorted(keyed)]


def report(
    session: Session,
    *,
    config: WardConfig,
    sites: Sequence[str],
    period: Period,
    service: str | None = None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Everything the statistics page and API show, for `sites` over `period`."""
    zone = config.policy.zone
    records = event_records(session, sites=sites, start=period.start, end=period.end)

    def grouped(key: Callable[[stats.Point], tuple[Any, ...]]) -> dict[Hashable, stats.Cell]:
        return stats.cells(
            records, zone, lambda p: None if service not in (None, p.service) else key(p)
        )

    by_service = grouped(lambda p: (p.site, p.service))
    touched = {r.ticket_id for r in records if service in (None, r.service)}
    journey = stats.summarise(stats.journeys([r for r in records if r.ticket_id in touched]))
    return {
        "start": period.first.isoformat(),
        "end": period.last.isoformat(),
        "sites": list(sites),
        "service": service,
        "total": _total(by_service.values()).row(),
        "by_service": _rows(by_service, ("site", "service")),
        "by_hour": _rows(grouped(lambda p: (p.hour,)), ("hour",)),
        "by_day": _rows(grouped(lambda p: (p.date.isoformat(),)), ("date",)),
        "counters": [
            {"counter": counter, "open_min": minutes, "utilisation": share}
            for counter, (minutes, share) in stats.utilisation(
                records, min(period.end, now)
            ).items()
        ],
        "journeys": {
            "n": journey.n,
            "mean": journey.mean,
            "median": journey.median,
            "p90": journey.p90,
        },
    }


def _total(cells: Iterable[stats.Cell]) -> stats.Cell:
    total = stats.Cell()
    for cell in cells:
        total.arrivals += cell.arrivals
        total.waits += cell.waits
        total.service_times += cell.service_times
        total.called += cell.called
        total.no_shows += cell.no_shows
    return total


def csv_rows(
    session: Session,
    *,
    config: WardConfig,
    sites: Sequence[str],
    period: Period,
    service: str | None = None,
) -> list[dict[str, Any]]:
    """One row per local date, hour, site and service (see CSV_COLUMNS)."""
    records = event_records(session, sites=sites, start=period.start, end=period.end)
    grouped = stats.cells(
        records,
        config.policy.zone,
        lambda p: (
            None
            if service not in (None, p.service)
            else (p.date.isoformat(), p.hour, p.site, p.service)
        ),
    )
    return _rows(grouped, ("date", "hour", "site", "service"))
