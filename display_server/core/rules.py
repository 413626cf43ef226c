"""Office rules: the business day, when tickets may be issued, numbering and call-next.

Pure functions over the configuration and plain values; `now` is always passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from display_server.config import Counter, Service, Site, WardConfig
from display_server.core.errors import IssueRefused
from display_server.core.tickets import Ticket, TicketStatus

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

#: How far ahead `next_opening` looks (年末年始 plus a long weekend fit comfortably).
_OPENING_SEARCH_DAYS = 21
#: A place in line: a ticket's `queue_key`, or what stands for it (an arrival time).
_Key = TypeVar("_Key", bound="SupportsRichComparison")


def business_date(config: WardConfig, now: dt.datetime) -> dt.date:
    """The local (Asia/Tokyo) calendar day of `now`: numbering restarts at local midnight."""
    return now.astimezone(config.policy.zone).date()


def local_time(config: WardConfig, day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=config.policy.zone)


def next_opening(config: WardConfig, site: Site, now: dt.datetime) -> dt.datetime | None:
    """The next moment tickets can be taken at `site` (now excluded if already open)."""
    today = business_date(config, now)
    for offset in range(_OPENING_SEARCH_DAYS):
        day = today + dt.timedelta(days=offset)
        hours = config.hours_on(site, day)
        if hours is None:
            continue
        opens = local_time(config, day, hours.open)
        if opens > now:
            return opens
    return None


def check_can_issue(
    config: WardConfig, site: Site, service: Service, *, now: dt.datetime, issued_today: int
) -> None:
    """Raise `IssueRefused` with the reason when no ticket may be issued now."""
    day = business_date(config, now)
    hours = config.hours_on(site, day)
    local_now = now.astimezone(config.policy.zone)
    if hours is None or local_now < local_time(config, day, hours.open):
        raise IssueRefused("closed", "the office is closed now", next_opening(config, site, now))
    if local_now >= local_time(config, day, hours.cutoff):
        raise IssueRefused(
            "after_cutoff",
            f"reception ended at {hours.cutoff:%H:%M}",
            next_opening(config, site, now),
        )
    if service.daily_cap is not None and issued_today >= service.daily_cap:
        raise IssueRefused(
            "daily_cap",
            f"all {service.daily_cap} tickets for today have been issued",
            next_opening(config, site, now),
        )
    if service.number_start + issued_today > service.number_end:
        raise IssueRefused(
            "numbers_exhausted",
            "the number range for today is used up",
            next_opening(config, site, now),
        )


def is_closing_time(config: WardConfig, site: Site, now: dt.datetime) -> bool:
    """True once the site's counters have closed for the day (or it never opened today)."""
    day = business_date(config, now)
    hours = config.hours_on(site, day)
    return hours is None or now >= local_time(config, day, hours.close)


def wind_down(
    site: Site, working: Iterable[str], open_tickets: Iterable[Ticket]
) -> tuple[list[str], list[Ticket]]:
    """After closing time: which of the `working` (open or paused) counters close, and which
    open tickets expire.

    Visitors who took a ticket before the cut-off are served, however long the line: a counter
    closes only once it has no visitor in hand and nobody waiting that it could call, and a
    ticket expires only when no counter still working can serve it.
    """
    tickets = list(open_tickets)
    working = set(working)
    in_hand = {t.counter for t in tickets if t.status is not TicketStatus.WAITING}
    waiting = {t.service for t in tickets if t.status is TicketStatus.WAITING}
    done = [
        c.id for c in site.counters
        if c.id in working and c.id not in in_hand and not waiting.intersection(c.services)
    ]
    staying = working.difference(done)
    served = {s for c in site.counters if c.id in staying for s in c.services}
    ended = [
        t for t in tickets
        if (t.service not in served if t.status is TicketStatus.WAITING
            else t.counter not in staying)
    ]
    return done, ended


def number_for(service: Service, issued_before: int) -> int:
    """The number of the next ticket, given how many the service issued earlier today."""
    return service.number_start + issued_before


def issue_limit(service: Service) -> int:
    """How many tickets the service may number in a day: its daily cap or its number range."""
    in_range = service.number_end - service.number_start + 1
    return in_range if service.daily_cap is None else min(service.daily_cap, in_range)


@dataclass(frozen=True)
class NumberFormat:
    """How a number is shown: a prefix, then the digits zero-padded to `width` (0: unpadded).

    The PostgreSQL issue statement (`store/issuing.py`) applies the same rule in SQL.
    """

    prefix: str
    width: int

    def format(self, number: int) -> str:
        return self.prefix + str(number).zfill(self.width)


def number_format(service: Service) -> NumberFormat:
    """Prefixed numbers are padded to the width of the range's end ("A012"); bare ones are not."""
    return NumberFormat(service.prefix, len(str(service.number_end)) if service.prefix else 0)


def display_number(service: Service, number: int) -> str:
    """What the slip, display and voice show ("A012", or "12" without a prefix)."""
    return number_format(service).format(number)


def service_to_call(counter: Counter, heads: Mapping[str, _Key]) -> str | None:
    """The service whose first waiting ticket `counter` calls next, or None.

    `heads` holds, per service with someone waiting, the queue key of its first ticket (smaller:
    priority, then waited longer). "longest_wait" takes the smallest key across the work
    profile; "strict_order" takes the first service of the profile with someone waiting. The
    one calling rule of the office, the wait estimator's simulation and the demo's history.
    """
    ready = [service for service in counter.services if service in heads]
    if not ready:
        return None
    if counter.policy == "strict_order":
        return ready[0]
    return min(ready, key=heads.__getitem__)


def choose_next(counter: Counter, waiting: Iterable[Ticket]) -> Ticket | None:
    """The ticket `counter` should call now (`service_to_call` over its lines), or None."""
    heads: dict[str, Ticket] = {}
    for ticket in waiting:
        if ticket.status is TicketStatus.WAITING and ticket.service in counter.services:
            head = heads.get(ticket.service)
            if head is None or ticket.queue_key() < head.queue_key():
                heads[ticket.service] = ticket
    service = service_to_call(counter, {s: t.queue_key() for s, t in heads.items()})
    return None if service is None else heads[service]
