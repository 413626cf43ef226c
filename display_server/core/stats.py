"""Statistics from the event log: pure functions, so tests can check them by hand.

A ticket's life is cut into *visits*, one per service it queued for: a visit starts when the
ticket is issued, routed on to its next service, re-queued after a no-show, or transferred away
from a counter, and ends when it is completed, routed, marked a no-show, cancelled, expired or
transferred from a counter. A transfer while still waiting keeps the visit (the ticket keeps its
place in line) and the wait counts for the service that finally calls it.

- wait = first call − start of the visit; grouped by the visit's service and start hour
- service time = end − start of service, for visits completed or routed on
- no-show rate = visits marked no-show / visits called
- journey = last completion − issue, for tickets whose route has more than one service
- utilisation = time a counter had a ticket called or in service / time it was open
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

#: Event types that end a visit, with the outcome they give it.
_ENDINGS = {"completed", "routed", "no_show", "cancelled", "expired"}
_COUNTER_OPEN, _COUNTER_STOP = "counter_opened", {"counter_paused", "counter_closed"}


@dataclass(frozen=True)
class EventRecord:
    """The parts of one logged event that statistics need (no staff names, no tokens)."""

    site: str
    type: str
    at: dt.datetime
    ticket_id: int | None = None
    service: str | None = None
    counter: str | None = None
    #: `issued`: how many services the route has; `routed`: unused.
    route_len: int = 1
    #: `routed`: the service the ticket moves on to.
    next_service: str | None = None


@dataclass
class Visit:
    site: str
    ticket_id: int
    service: str
    queued_at: dt.datetime
    called_at: dt.datetime | None = None
    counter: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    outcome: str = "open"

    @property
    def wait_min(self) -> float | None:
        return _minutes(self.called_at - self.queued_at) if self.called_at else None

    @property
    def service_min(self) -> float | None:
        if self.started_at and self.ended_at and self.outcome in ("completed", "routed"):
            return _minutes(self.ended_at - self.started_at)
        return None


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


def visits(events: Iterable[EventRecord]) -> list[Visit]:
    """Every visit of every ticket, from events in log order."""
    current: dict[int, Visit] = {}
    done: list[Visit] = []

    def begin(e: EventRecord, service: str | None) -> None:
        assert e.ticket_id is not None
        current[e.ticket_id] = Visit(e.site, e.ticket_id, service or "", e.at)

    def end(visit: Visit, e: EventRecord, outcome: str) -> None:
        visit.ended_at, visit.outcome = e.at, outcome
        done.append(current.pop(visit.ticket_id))

    for e in events:
        if e.ticket_id is None:
            continue
        visit = current.get(e.ticket_id)
        if e.type in ("issued", "requeued"):
            begin(e, e.service)
        elif visit is None:
            continue
        elif e.type == "called" and visit.called_at is None:
            visit.called_at, visit.counter, visit.service = (
                e.at,
                e.counter,
                e.service or visit.service,
            )
        elif e.type == "started":
            visit.started_at = e.at
        elif e.type == "transferred":
            if visit.called_at is None:
                visit.service = e.service or visit.service
            else:
                end(visit, e, "transferred")
                begin(e, e.service)
        elif e.type in _ENDINGS:
            end(visit, e, e.type)
            if e.type == "routed":
                begin(e, e.next_service)
    return done + list(current.values())


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    median: float | None
    p90: float | None


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, None, None, None)
    return Summary(
        len(values), sum(values) / len(values), percentile(values, 50), percentile(values, 90)
    )


@dataclass
class Cell:
    """What one group (site, service, day, hour … ) accumulated."""

    arrivals: int = 0
    waits: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)
    called: int = 0
    no_shows: int = 0

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.called if self.called else None

    def row(self) -> dict[str, Any]:
        wait, service = summarise(self.waits), summarise(self.service_times)
        return {
            "arrivals": self.arrivals,
            "called": self.called,
            "no_shows": self.no_shows,
            "no_show_rate": self.no_show_rate,
            "wait_n": wait.n,
            "wait_mean": wait.mean,
            "wait_median": wait.median,
            "wait_p90": wait.p90,
            "service_n": service.n,
            "service_mean": service.mean,
            "service_median": service.median,
        }


@dataclass(frozen=True)
class Point:
    """Where a contribution falls: the grouping dimensions in local time."""

    site: str
    service: str
    date: dt.date
    hour: int


#: The group a point falls in, or None to leave it out.
Key = Callable[[Point], Hashable | None]


def cells(events: Sequence[EventRecord], zone: ZoneInfo, key: Key) -> dict[Hashable, Cell]:
    """Arrivals, waits, service times and no-shows grouped by `key` of each local time point."""

    def point(site: str, service: str, at: dt.datetime) -> Point:
        local = at.astimezone(zone)
        return Point(site, service, local.date(), local.hour)

    grouped: dict[Hashable, Cell] = {}

    def cell_at(site: str, service: str, at: dt.datetime) -> Cell:
        group = key(point(site, service, at))
        return grouped.setdefault(group, Cell()) if group is not None else Cell()

    for e in events:
        if e.type == "issued" and e.ticket_id is not None:
            cell_at(e.site, e.service or "", e.at).arrivals += 1
    for v in visits(events):
        cell = cell_at(v.site, v.service, v.queued_at)
        if v.wait_min is not None:
            cell.waits.append(v.wait_min)
            cell.called += 1
            cell.no_shows += v.outcome == "no_show"
        if v.service_min is not None:
            cell.service_times.append(v.service_min)
    return grouped


def journeys(events: Sequence[EventRecord]) -> list[float]:
    """Minutes from issue to the final completion of each ticket routed across services."""
    issued = {e.ticket_id: e.at for e in events if e.type == "issued" and e.route_len > 1}
    return [
        _minutes(e.at - issued[e.ticket_id])
        for e in events
        if e.type == "completed" and e.ticket_id in issued
    ]


def utilisation(events: Sequence[EventRecord], end: dt.datetime) -> dict[str, tuple[float, float]]:
    """Per counter: (minutes open, share of that time busy with a called or served ticket).

    Counters still open at `end` count as open until then; counters busy but not logged as open
    (opened before the range) are left out rather than reported above 100 %."""
    opened: dict[str, dt.datetime] = {}
    open_min: dict[str, float] = {}
    for e in events:
        if e.counter is None:
            continue
        if e.type == _COUNTER_OPEN:
            opened.setdefault(e.counter, e.at)
        elif e.type in _COUNTER_STOP and e.counter in opened:
            open_min[e.counter] = open_min.get(e.counter, 0) + _minutes(
                e.at - opened.pop(e.counter)
            )
    for counter, since in opened.items():
        open_min[counter] = open_min.get(counter, 0) + _minutes(end - since)
    busy: dict[str, float] = {}
    for v in visits(events):
        if v.counter and v.called_at:
            busy[v.counter] = busy.get(v.counter, 0) + _minutes((v.ended_at or end) - v.called_at)
    return {
        counter: (minutes, min(1.0, busy.get(counter, 0) / minutes))
        for counter, minutes in sorted(open_min.items())
        if minutes > 0
    }
