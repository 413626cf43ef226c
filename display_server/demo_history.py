"""A year of SIMULATED visits for the demo, so the forecast calendar has history to learn from.

Arrivals come from `forecasting.simulate` (a ward office's weekday × hour profile, month-end and
moving-season peaks) restricted to the configured schedule; each day is then served at the
site's counters, each calling from its work profile as the server would. The result is written
as ordinary tickets and events (issued, called, started, completed), marked
`issued_by="simulated-history"` so that pages can say the history is simulated, in bulk inserts
(a year takes seconds). The last weeks' tickets carry the wait estimator's score at issue, from a
replay of those days, so that the live estimates learn from realised waits from the start.

It is written only into a log without events: sequence numbers must follow time.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from display_server.config import Service, Site, WardConfig
from display_server.core import rules, serving
from display_server.core.tickets import Channel, EventType, TicketStatus
from display_server.forecast_service import refit, schedule_for
from display_server.history import LOOKBACK
from display_server.replay import Visit, replay
from display_server.store.db import make_engine, make_sessionmaker
from display_server.store.forecasts import SIMULATED_ISSUER
from display_server.store.models import EventRow, NumberSequenceRow, SiteSequenceRow, TicketRow
from forecasting.simulate import simulate_arrivals

log = logging.getLogger("madoguchi.demo")

#: How busy the counters are in an open hour of average weight in the ward's weekday × hour
#: profile, which makes Monday mornings nearly twice that and Friday afternoons less.
LOAD = 0.55
#: The walk from the waiting area to the counter after a call, in minutes.
WALK_MIN = 1.0
#: Tickets of the last weeks get their whole life logged (for the calibration, the statistics
#: page and the observed service times), as far back as the server reads (`history.LOOKBACK`);
#: older ones only their `issued` event, which is all the forecast reads — a full year of
#: lifecycles would quadruple the rows and the seconds to write them.
LIFECYCLE = LOOKBACK
#: Tickets of those weeks also carry the wait estimator's score at issue, as the server's do,
#: so that the estimates learn from realised waits from the first minute: with two weeks, a
#: fresh demo's quieter services had no usable score bin and showed the model's range
#: (Shakujii's マイナンバーカード at a score of 15 minutes: 1–64 minutes; calibrated on eight
#: weeks: 2–33). The replay that computes them takes about 6 s of the demo's first start.
SCORED = LIFECYCLE
#: The replay starts this long before `SCORED`: with no history yet, its first days' scores
#: would say little about the waits that follow them.
REPLAY_WARM_UP = dt.timedelta(weeks=1)


def mean_per_hour(site: Site, service: Service) -> float:
    """Mean arrivals per open hour of `service` before the weekday × hour profile, for the
    history and the live demo alike: `LOAD` of the capacity of its counters, each counter's
    time shared equally among its services (a counter that also serves two other services
    gives it a third of its hours)."""
    minutes = service.default_service_minutes
    capacity = sum(
        60 / minutes / len(counter.services)
        for counter in site.counters
        if service.id in counter.services
    )
    return LOAD * capacity


def prepare_history(
    database_url: str, config: WardConfig, *, now: dt.datetime, workers: int = 1
) -> int:
    """Seed the simulated history when the log is empty and fit the first forecasts from it,
    so the calendar is filled from the first page view; returns the tickets written."""
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine, writer=True)() as session:
            tickets = seed_history(session, config=config, now=now)
            session.commit()
        if tickets:
            readers, writers = make_sessionmaker(engine), make_sessionmaker(engine, writer=True)
            refit(config, readers, writers, now=now, workers=workers)
    finally:
        engine.dispose()
    return tickets


def seed_history(
    session: Session, *, config: WardConfig, now: dt.datetime, days: int = 365, seed: int = 7
) -> int:
    """Write `days` of simulated history ending at `now`'s local midnight; returns the tickets.

    Does nothing (returns 0) when the event log is not empty. The caller commits.
    """
    if session.scalar(select(EventRow.id).limit(1)) is not None:
        log.info("the event log is not empty: no simulated history written")
        return 0
    began = time.monotonic()
    zone = config.policy.zone
    end = now.astimezone(zone).date()
    first = end - dt.timedelta(days=days)
    lifecycle_from = end - LIFECYCLE
    next_id = (session.scalar(select(func.max(TicketRow.id))) or 0) + 1
    rng = np.random.default_rng(seed)
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    numbers: list[dict[str, Any]] = []
    for site in config.sites:
        schedule = schedule_for(config, site, first, end)
        site_events: list[dict[str, Any]] = []
        # Per open day, each service's arrival instants (its ticket numbers follow their order).
        days_times: dict[dt.date, dict[str, list[dt.datetime]]] = {}
        for service in site.services:
            arrivals = simulate_arrivals(
                first.isoformat(), days, mean_per_hour=mean_per_hour(site, service),
                schedule=schedule, seed=seed + zlib.crc32(f"{site.id}/{service.id}".encode()),
                spread=False,
            )
            for day, times in _arrival_times(config, site, arrivals, rng):
                days_times.setdefault(day, {})[service.id] = times[: service.daily_cap]
                numbers.append({"site": site.id, "service": service.id, "business_date": day,
                                "issued": len(days_times[day][service.id])})
        site_tickets: list[dict[str, Any]] = []
        for day in sorted(days_times):
            visits = _serve(site, days_times[day], rng)
            for service in site.services:
                for number, visit in enumerate(visits.get(service.id, ())):
                    site_tickets.append(_ticket(next_id, site, service, day, number, visit))
                    next_id += 1
        scores = _scores(site_tickets, since=end - SCORED)
        for ticket in site_tickets:
            full = ticket["business_date"] >= lifecycle_from
            site_events.extend(_events(ticket, full=full, score=scores.get(ticket["id"])))
        tickets.extend(site_tickets)
        site_events.sort(key=lambda e: (e["at"], e["ticket_id"]))
        for seq, event in enumerate(site_events, start=1):
            event["seq"] = seq
        events.extend(site_events)
        session.merge(SiteSequenceRow(site=site.id, seq=len(site_events)))
    # On the connection (Core executemany): the session's ORM bulk path issues one statement
    # per run of rows with the same None columns, four times slower here.
    connection = session.connection()
    for model, rows in ((TicketRow, tickets), (EventRow, events), (NumberSequenceRow, numbers)):
        if rows:
            connection.execute(insert(model), rows)
    log.info(
        "simulated history: %d tickets, %d events from %s, written in %.1f s",
        len(tickets), len(events), first, time.monotonic() - began,
    )
    return len(tickets)


def _arrival_times(
    config: WardConfig, site: Site, arrivals: pd.DataFrame, rng: np.random.Generator
) -> Iterator[tuple[dt.date, list[dt.datetime]]]:
    """Per open day, the arrival instants: uniform within each hour's reception window."""
    zone = config.policy.zone
    busy = arrivals[arrivals["count"] > 0]
    for day, hours in busy.groupby(busy["hour_start"].dt.date):
        opening = site.hours_on(day)
        assert opening is not None, "the schedule only opens on configured weekdays"
        window_start = dt.datetime.combine(day, opening.open, zone)
        window_end = dt.datetime.combine(day, opening.cutoff, zone)
        times: list[dt.datetime] = []
        for hour_start, count in zip(hours["hour_start"], hours["count"], strict=True):
            start = max(hour_start.to_pydatetime().replace(tzinfo=zone), window_start)
            stop = min(start.replace(minute=0) + dt.timedelta(hours=1), window_end)
            seconds = rng.uniform(0, (stop - start).total_seconds(), int(count))
            times.extend(start + dt.timedelta(seconds=float(s)) for s in seconds)
        yield day, sorted(times)


#: A ticket's life at the counters: issued, counter, called, started, finished.
_Visit = tuple[dt.datetime, str, dt.datetime, dt.datetime, dt.datetime]


def _serve(
    site: Site, times: dict[str, list[dt.datetime]], rng: np.random.Generator
) -> dict[str, list[_Visit]]:
    """One day at the site's counters (`serving.serve_day`: each calls by the office's rule;
    the history has no priority tickets), counted in minutes from the day's first arrival.
    Per service, visits in the order of `times`."""
    opening = min((t[0] for t in times.values() if t), default=None)
    if opening is None:
        return {}
    minutes = {service.id: service.default_service_minutes for service in site.services}

    def counter_time(service: str) -> float:
        return WALK_MIN + float(rng.exponential(minutes[service]))

    def at(minute: float) -> dt.datetime:
        return opening + dt.timedelta(minutes=minute)

    turns = serving.serve_day(
        {s: [(t - opening).total_seconds() / 60 for t in issued] for s, issued in times.items()},
        site.counters,
        counter_time,
    )
    return {
        service: [
            (issued, site.counters[turn.counter].id, at(turn.called),
             at(turn.called + WALK_MIN), at(turn.finished))
            for issued, turn in zip(times[service], served, strict=True)
            if turn is not None
        ]
        for service, served in turns.items()
    }


def _ticket(
    ticket_id: int, site: Site, service: Service, day: dt.date, index: int,
    visit: _Visit,
) -> dict[str, Any]:
    issued, counter, called, started, finished = visit
    number = rules.number_for(service, index)
    return {
        "id": ticket_id, "token": secrets.token_urlsafe(24), "site": site.id,
        "service": service.id, "numbered_service": service.id, "number": number,
        "display_number": rules.display_number(service, number), "business_date": day,
        "channel": Channel.KIOSK.value, "priority": False, "lang": "ja", "route": service.id,
        "route_index": 0, "status": TicketStatus.DONE.value, "issued_at": issued,
        "queued_at": issued, "counter": counter, "recalls": 0, "called_at": called,
        "started_at": started, "finished_at": finished, "issued_by": SIMULATED_ISSUER,
    }


def _scores(tickets: list[dict[str, Any]], *, since: dt.date) -> dict[int, float]:
    """Each ticket's score at issue from the day `since` on, by id: a replay through the wait
    estimator (`replay.replay`, counter = server, service = queue) from `REPLAY_WARM_UP`
    before it."""
    recent = sorted(
        (t for t in tickets if t["business_date"] >= since - REPLAY_WARM_UP),
        key=lambda t: t["issued_at"],
    )
    result = replay([
        Visit(row=i, arrival=t["issued_at"], service_start=t["called_at"],
              service_end=t["finished_at"], queue=t["service"], server=t["counter"])
        for i, t in enumerate(recent)
    ])
    return {
        t["id"]: score
        for t, score in zip(recent, result.scores, strict=True)
        if score is not None and t["business_date"] >= since
    }


def _events(
    ticket: dict[str, Any], *, full: bool, score: float | None = None
) -> list[dict[str, Any]]:
    """The ticket's life in the log as `office` logs it; with `full` false, its issue only."""
    common = {"site": ticket["site"], "ticket_id": ticket["id"], "service": ticket["service"],
              "staff": SIMULATED_ISSUER}
    issued_data = {"channel": ticket["channel"], "priority": False, "route": [ticket["service"]],
                   "number": ticket["display_number"]}
    if score is not None:
        issued_data["score"] = round(score, 3)
    issued = {**common, "type": EventType.ISSUED.value, "at": ticket["issued_at"],
              "counter": None, "data": issued_data}
    if not full:
        return [issued]
    return [
        issued,
        *(
            {**common, "type": kind.value, "at": ticket[column], "counter": ticket["counter"],
             "data": {}}
            for kind, column in ((EventType.CALLED, "called_at"), (EventType.STARTED, "started_at"),
                                 (EventType.COMPLETED, "finished_at"))
        ),
    ]
