"""JSON views of tickets and sites, shared by the API, the pages and the live hub; and the CSV
form every download uses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from display_server.config import Site, WardConfig
from display_server.core import rules
from display_server.core.estimate import QueueState, WaitEstimate, estimate_new
from display_server.core.tickets import Ticket
from display_server.store import events as event_store
from display_server.store import tickets as ticket_store

#: How many recent calls the status keeps for lobby screens.
RECENT_CALLS = 8
#: A route's end is said to the next five minutes: a time to the minute would claim more than
#: the estimate knows.
ROUTE_END_STEP_S = 300


def crowding_level(config: WardConfig, minutes: float | None) -> str:
    """quiet / moderate / busy / very_busy from an expected wait, by the policy's thresholds."""
    if minutes is None:
        return "closed"
    low, mid, high = config.policy.level_thresholds_min
    if minutes < low:
        return "quiet"
    if minutes < mid:
        return "moderate"
    if minutes < high:
        return "busy"
    return "very_busy"


def expected_minutes(estimate: WaitEstimate) -> float | None:
    """The expected wait: the level follows it, not the top of the 80 % range, which at cold
    start is wide enough to call an empty line crowded."""
    if estimate.minutes_min is None or estimate.minutes_max is None:
        return None
    if estimate.expected is not None:
        return estimate.expected
    return (estimate.minutes_min + estimate.minutes_max) / 2


def ticket_view(
    config: WardConfig,
    ticket: Ticket,
    estimate: WaitEstimate,
    *,
    status_url: str,
    now: dt.datetime,
    lang: str = "ja",
) -> dict[str, Any]:
    site = config.site(ticket.site)
    assert site is not None
    service = site.service(ticket.service)
    zone = config.policy.zone
    counter = config.counter(ticket.counter) if ticket.counter else None
    return {
        "id": ticket.id,
        "token": ticket.token,
        "number": ticket.number,
        "display_number": ticket.display_number,
        "site": ticket.site,
        "site_name": site.name.get(lang),
        "service": ticket.service,
        "service_name": service.name.get(lang) if service else ticket.service,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "channel": ticket.channel.value,
        "route": list(ticket.route),
        "route_index": ticket.route_index,
        "issued_at": office_time(ticket.issued_at, zone),
        "called_at": office_time(ticket.called_at, zone),
        "counter": ticket.counter,
        "counter_label": counter[1].label if counter else None,
        "counter_name": counter[1].name.get(lang) if counter else None,
        "recalls": ticket.recalls,
        "ahead": estimate.ahead,
        "est_wait_min": estimate.minutes_min,
        "est_wait_max": estimate.minutes_max,
        "est_route_done_at": office_time(route_done_at(now, estimate.route_minutes), zone),
        "status_url": status_url,
    }


def office_time(at: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """ISO 8601 with the office's UTC offset, so that a kiosk or slip can show the office's
    wall-clock time without knowing its time zone."""
    return at.astimezone(zone).isoformat() if at else None


def route_done_at(now: dt.datetime, minutes: float | None) -> dt.datetime | None:
    """When a route should be through, up to the next five minutes, or None."""
    if minutes is None:
        return None
    end = (now + dt.timedelta(minutes=minutes)).timestamp()
    rounded = math.ceil(end / ROUTE_END_STEP_S) * ROUTE_END_STEP_S
    return dt.datetime.fromtimestamp(rounded, now.tzinfo)


def site_status(
    session: Session,
    *,
    config: WardConfig,
    site: Site,
    now: dt.datetime,
    state: QueueState,
    lang: str = "ja",
) -> dict[str, Any]:
    """The contract's site status: waiting and estimates per service, counters, recent calls.

    `state` comes from `Runtime.queue_state`, so that every page shows the same estimate.
    """
    day = rules.business_date(config, now)
    hours = config.hours_on(site, day)
    local_now = now.astimezone(config.policy.zone)
    accepting = (
        hours is not None and hours.open <= local_now.time().replace(tzinfo=None) < hours.cutoff
    )
    services = []
    issued_counts = ticket_store.issued_counts(session, site=site.id, business_date=day)
    for service in site.services:
        estimate = estimate_new(state, service=service.id, now=now)
        issued = issued_counts.get(service.id, 0)
        services.append(
            {
                "id": service.id,
                "name": service.name.get(lang),
                "names": {"ja": service.name.ja, "en": service.name.en},
                "prefix": service.prefix,
                "waiting": estimate.ahead,
                "est_wait_min": estimate.minutes_min,
                "est_wait_max": estimate.minutes_max,
                "level": crowding_level(config, expected_minutes(estimate)),
                "daily_cap": service.daily_cap,
                "remaining": None
                if service.daily_cap is None
                else max(0, service.daily_cap - issued),
                "remote": service.remote,
            }
        )
    counters = []
    for view in state.counters:
        counters.append(
            {
                "id": view.config.id,
                "name": view.config.name.get(lang),
                "label": view.config.label,
                "state": view.status.value,
                "services": list(view.config.services),
                "serving": view.current.display_number if view.current else None,
                "serving_status": view.current.status.value if view.current else None,
            }
        )
    called = ticket_store.recent_calls(session, site=site.id, business_date=day, limit=RECENT_CALLS)
    labels = {c.id: c.label for c in site.counters}
    calling = [
        {
            "display_number": t.display_number,
            "service": t.service,
            "counter": t.counter,
            "counter_label": labels.get(t.counter or "", ""),
            "called_at": office_time(t.called_at, config.policy.zone),
            "recalls": t.recalls,
            "status": t.status.value,
        }
        for t in called
    ]
    opening = rules.next_opening(config, site, now)
    return {
        "site": site.id,
        "name": site.name.get(lang),
        "seq": event_store.current_seq(session, site=site.id),
        "at": office_time(now, config.policy.zone),
        "timezone": config.policy.timezone,
        "accepting": accepting,
        "hours": (
            {
                "open": hours.open.isoformat("minutes"),
                "cutoff": hours.cutoff.isoformat("minutes"),
                "close": hours.close.isoformat("minutes"),
            }
            if hours
            else None
        ),
        "next_opening": office_time(opening, config.policy.zone),
        "services": services,
        "counters": counters,
        "calling": calling,
    }


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def spreadsheet_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """CSV that spreadsheet software opens as meant: UTF-8 with a BOM (or Excel garbles the
    Japanese), CRLF line ends, a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()
