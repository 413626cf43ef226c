"""Use cases: the domain rules applied to stored state, one transaction each.

Each function locks the site's event sequence first, so that all changes to one site are
serialised (no ticket is called twice, numbers stay gapless) on SQLite and PostgreSQL alike.
The caller commits and then publishes the returned events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from display_server.config import Counter, Site, WardConfig
from display_server.core import counters as counter_rules
from display_server.core import rules
from display_server.core import tickets as lifecycle
from display_server.core.counters import CounterState, CounterStatus
from display_server.core.errors import InvalidTransition, IssueRefused, NotFound, NothingWaiting
from display_server.core.estimate import CounterView, QueueState, WaitEstimate
from display_server.core.estimate_model import QueueHistory
from display_server.core.tickets import Channel, Event, Ticket, TicketStatus
from display_server.store import counters as counter_store
from display_server.store import events as event_store
from display_server.store import issuing
from display_server.store import tickets as ticket_store
from display_server.store.models import SiteSequenceRow

#: How far back finished services count for the service-time statistics.
SERVICE_HISTORY = dt.timedelta(days=14)


class IdempotencyConflict(InvalidTransition):
    """The Idempotency-Key was used before with a different request."""


@dataclass(frozen=True)
class IssueRequest:
    service: str
    channel: Channel = Channel.KIOSK
    priority: bool = False
    lang: str = "ja"
    route: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """A hash of what was asked, to tell a retry from a different request with the same key."""
        body = json.dumps(
            [self.service, self.channel.value, self.priority, self.lang, list(self.route)]
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What a use case changed: the ticket (if any) and the logged events with their seq."""

    site: str
    ticket: Ticket | None = None
    events: Sequence[tuple[int, Event]] = field(default_factory=tuple)
    created: bool = True
    #: The wait estimate a new ticket was issued with.
    estimate: WaitEstimate | None = None


def find_site(config: WardConfig, site_id: str) -> Site:
    site = config.site(site_id)
    if site is None:
        raise NotFound(f"unknown site {site_id!r}")
    return site


def find_counter(config: WardConfig, counter_id: str) -> tuple[Site, Counter]:
    found = config.counter(counter_id)
    if found is None:
        raise NotFound(f"unknown counter {counter_id!r}")
    return found


def lock_site(session: Session, *, site: str) -> None:
    """Take the site's write lock (its event-sequence row) for the rest of the transaction.

    A no-op upsert locks the row in one round trip, creating it on the site's first event.
    """
    dialect = session.get_bind().dialect.name
    insert_ = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SiteSequenceRow)
    session.execute(
        insert_.values(site=site, seq=0).on_conflict_do_update(
            index_elements=["site"], set_={"seq": SiteSequenceRow.seq}
        )
    )


def _log(session: Session, events: Sequence[Event]) -> tuple[tuple[int, Event], ...]:
    return tuple((event_store.append_event(session, event=e), e) for e in events)


def issue_ticket(
    session: Session,
    *,
    config: WardConfig,
    site_id: str,
    request: IssueRequest,
    now: dt.datetime,
    idempotency_key: str | None,
    issued_by: str | None,
    new_token: Callable[[], str] = lambda: secrets.token_urlsafe(24),
    estimate: Callable[[Ticket], WaitEstimate] | None = None,
) -> Outcome:
    """Issue a numbered ticket, or return the one issued before under the same key.

    Unlike the counter actions this does not lock the site up front: the service's number row
    and the site's sequence row are locked only from numbering on (`store.issuing`), so kiosks
    of one site issue in parallel with calls at its counters. A retry (a key used before) is
    found by the numbering statement itself, which then takes nothing; two requests racing with
    the same new key both get past it, the second fails on the unique key, and the caller's
    retry of it finds the first.

    `estimate` gives the new ticket's wait estimate, from the ticket before it has a number
    or id (`UNSTORED_ID`); its position score is logged with the `issued` event, so that every
    process can later calibrate estimates on realised waits.
    """
    site = find_site(config, site_id)
    route = request.route or (request.service,)
    if route[0] != request.service:
        raise InvalidTransition("a route must start with the ticket's service")
    services = []
    for service_id in route:
        service = site.service(service_id)
        if service is None:
            raise NotFound(f"unknown service {service_id!r} at site {site.id!r}")
        if request.channel is Channel.REMOTE and not service.remote:
            raise InvalidTransition(f"service {service_id!r} does not take remote tickets")
        services.append(service)
    fingerprint = request.fingerprint()

    def issued_before() -> Outcome | None:
        """The ticket an earlier request with this Idempotency-Key was given, if any."""
        if idempotency_key is None:
            return None
        earlier = ticket_store.by_idempotency_key(session, site=site.id, key=idempotency_key)
        if earlier is None:
            return None
        ticket, earlier_fingerprint = earlier
        if earlier_fingerprint != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different request"
            )
        return Outcome(site=site.id, ticket=ticket, created=False)

    first = services[0]
    day = rules.business_date(config, now)
    unnumbered = Ticket(
        id=lifecycle.UNSTORED_ID,
        token=new_token(),
        site=site.id,
        service=first.id,
        number=0,
        display_number="",
        business_date=day,
        channel=request.channel,
        priority=request.priority,
        lang=request.lang,
        route=route,
        route_index=0,
        status=TicketStatus.WAITING,
        issued_at=now,
        queued_at=now,
    )
    # Refusals that do not depend on the count come before anything is taken; a retry of a
    # request answered before the cut-off still gets its ticket.
    try:
        rules.check_can_issue(config, site, first, now=now, issued_today=0)
    except IssueRefused:
        if (earlier := issued_before()) is not None:
            return earlier
        raise
    # Before any row is locked: other issues at the site need not wait for the simulation.
    estimated = estimate(unnumbered) if estimate is not None else None
    score = estimated.score if estimated is not None else None
    limit = rules.issue_limit(first)
    issued = issuing.issue(
        session,
        ticket=unnumbered,
        first_number=first.number_start,
        limit=limit,
        number_format=rules.number_format(first),
        issued=Event(
            type=lifecycle.EventType.ISSUED,
            site=site.id,
            at=now,
            staff=issued_by,
            service=first.id,
            data={
                "channel": request.channel.value,
                "priority": request.priority,
                "route": list(route),
                **({"score": round(score, 3)} if score is not None else {}),
            },
        ),
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        issued_by=issued_by,
    )
    if issued is None:  # a retry (looked up only now: most requests are not), or the limit
        if (earlier := issued_before()) is not None:
            return earlier
        rules.check_can_issue(config, site, first, now=now, issued_today=limit)
        raise AssertionError("the day's limit was reached but no refusal applies")
    ticket, logged = issued
    return Outcome(site=site.id, ticket=ticket, events=(logged,), estimate=estimated)


def _counter_state(session: Session, counter: Counter) -> CounterState:
    state = counter_store.get_counter(session, counter=counter.id)
    if state is None:
        raise NotFound(f"counter {counter.id!r} has no state row; restart the server to sync")
    return state


def call_next(
    session: Session, *, config: WardConfig, counter_id: str, now: dt.datetime, staff: str | None
) -> Outcome:
    """Call the next ticket for the counter's work profile."""
    site, counter = find_counter(config, counter_id)
    lock_site(session, site=site.id)
    state = _counter_state(session, counter)
    if state.status is not CounterStatus.OPEN:
        raise InvalidTransition(f"counter {counter.id} is {state.status.value}: open it first")
    current = ticket_store.at_counter(session, counter=counter.id)
    if current is not None:
        raise InvalidTransition(
            f"ticket {current.display_number} is still at this counter: "
            "complete it, mark a no-show or transfer it first"
        )
    today = rules.business_date(config, now)
    waiting = [
        t for t in ticket_store.open_tickets(session, site=site.id) if t.business_date == today
    ]
    chosen = rules.choose_next(counter, waiting)
    if chosen is None:
        raise NothingWaiting(f"no ticket is waiting for counter {counter.id}")
    called, event = lifecycle.call(chosen, counter=counter.id, now=now, staff=staff)
    ticket_store.save_ticket(session, ticket=called)
    return Outcome(site=site.id, ticket=called, events=_log(session, [event]))


#: What a counter does to the ticket in hand, and what the floor (or the visitor) does to any.
COUNTER_TICKET_ACTIONS = frozenset({"recall", "start", "complete", "no-show", "transfer"})
FLOOR_TICKET_ACTIONS = frozenset({"cancel", "requeue", "prioritise", "transfer"})


def _transition(
    config: WardConfig,
    site: Site,
    ticket: Ticket,
    action: str,
    *,
    now: dt.datetime,
    staff: str | None,
    service: str | None,
) -> tuple[Ticket, Event]:
    """The lifecycle step an action names, with the policy's parameters filled in."""
    if action == "transfer":
        if service is None or site.service(service) is None:
            raise NotFound(f"unknown service {service!r} at site {site.id!r}")
        return lifecycle.transfer(ticket, service=service, now=now, staff=staff)
    if action == "no-show":
        return lifecycle.no_show(
            ticket, now=now, staff=staff, recalls_required=config.policy.recalls_before_no_show
        )
    if action == "requeue":
        return lifecycle.requeue(
            ticket, now=now, staff=staff, rejoin_minutes=config.policy.rejoin_minutes
        )
    simple = {
        "recall": lifecycle.recall,
        "start": lifecycle.start,
        "complete": lifecycle.complete,
        "cancel": lifecycle.cancel,
        "prioritise": lifecycle.prioritise,
    }
    return simple[action](ticket, now=now, staff=staff)


def act_on_current(
    session: Session,
    *,
    config: WardConfig,
    counter_id: str,
    action: str,
    now: dt.datetime,
    staff: str | None,
    service: str | None = None,
) -> Outcome:
    """recall, start, complete, no-show or transfer the ticket at the counter."""
    site, counter = find_counter(config, counter_id)
    lock_site(session, site=site.id)
    current = ticket_store.at_counter(session, counter=counter.id)
    if current is None:
        raise InvalidTransition(f"counter {counter.id} has no called ticket")
    if action not in COUNTER_TICKET_ACTIONS:
        raise NotFound(f"unknown counter action {action!r}")
    changed, event = _transition(
        config, site, current, action, now=now, staff=staff, service=service
    )
    ticket_store.save_ticket(session, ticket=changed)
    return Outcome(site=site.id, ticket=changed, events=_log(session, [event]))


def set_counter_status(
    session: Session,
    *,
    config: WardConfig,
    counter_id: str,
    status: CounterStatus,
    now: dt.datetime,
    staff: str | None,
) -> Outcome:
    site, counter = find_counter(config, counter_id)
    lock_site(session, site=site.id)
    state = _counter_state(session, counter)
    busy = ticket_store.at_counter(session, counter=counter.id) is not None
    changed, event = counter_rules.set_status(state, status, now=now, staff=staff, busy=busy)
    counter_store.save_counter(session, counter=changed)
    return Outcome(site=site.id, events=_log(session, [event]))


def change_ticket(
    session: Session,
    *,
    config: WardConfig,
    ticket: Ticket,
    action: str,
    now: dt.datetime,
    staff: str | None,
    service: str | None = None,
) -> Outcome:
    """Floor and visitor actions on a ticket: cancel, requeue, prioritise, transfer."""
    site = find_site(config, ticket.site)
    lock_site(session, site=site.id)
    fresh = ticket_store.by_id(session, ticket_id=ticket.id)
    assert fresh is not None
    if action not in FLOOR_TICKET_ACTIONS:
        raise NotFound(f"unknown ticket action {action!r}")
    changed, event = _transition(config, site, fresh, action, now=now, staff=staff, service=service)
    ticket_store.save_ticket(session, ticket=changed)
    return Outcome(site=site.id, ticket=changed, events=_log(session, [event]))


def expire_after_closing(
    session: Session, *, config: WardConfig, site: Site, now: dt.datetime
) -> Outcome:
    """Wind the day down: after closing time, close the counters that have nobody left to
    serve and expire the tickets that no working counter can serve (`rules.wind_down`: the
    line that was there at closing is served). Tickets of an earlier day expire, and counters
    left open since an earlier day close (the server may have been down at closing time)."""
    today = rules.business_date(config, now)
    closing = rules.is_closing_time(config, site, now)

    def left_over() -> tuple[list[Ticket], list[CounterState]]:
        """The open tickets and the working (open or paused) counters."""
        counters = counter_store.site_counters(session, site=site.id).values()
        working = [c for c in counters if c.status is not CounterStatus.CLOSED]
        return ticket_store.open_tickets(session, site=site.id), working

    def of_earlier_days(
        tickets: list[Ticket], working: list[CounterState]
    ) -> tuple[list[Ticket], list[CounterState]]:
        return (
            [t for t in tickets if t.business_date < today],
            [c for c in working if c.since and rules.business_date(config, c.since) < today],
        )

    if not closing and not any(of_earlier_days(*left_over())):
        return Outcome(site=site.id, created=False)
    lock_site(session, site=site.id)
    tickets, working = left_over()
    ended, closed = of_earlier_days(tickets, working)
    if closing:
        staying = [c.id for c in working if c not in closed]
        done, unserved = rules.wind_down(site, staying, tickets)
        closed += [c for c in working if c.id in done]
        ended += [t for t in unserved if t not in ended]
    events: list[Event] = []
    for ticket in ended:
        expired, event = lifecycle.expire(ticket, now=now)
        ticket_store.save_ticket(session, ticket=expired)
        events.append(event)
    for counter in closed:
        changed, event = counter_rules.set_status(
            counter, CounterStatus.CLOSED, now=now, staff=None, busy=False
        )
        counter_store.save_counter(session, counter=changed)
        events.append(event)
    return Outcome(site=site.id, events=_log(session, events), created=bool(events))


def queue_state(
    session: Session,
    *,
    config: WardConfig,
    site: Site,
    now: dt.datetime,
    history: QueueHistory | None = None,
    open_tickets: Sequence[Ticket] | None = None,
    counters: Mapping[str, CounterState] | None = None,
) -> QueueState:
    """What the estimator needs to know about the site now.

    With the site's `history` (history.py) the estimator uses realised waits and service times;
    without it, only the recent durations read here. `open_tickets` and `counters` (their
    states) save reading them.
    """
    today = rules.business_date(config, now)
    if open_tickets is None:
        open_tickets = ticket_store.open_tickets(session, site=site.id)
    open_now = [t for t in open_tickets if t.business_date == today]
    states = counter_store.site_counters(session, site=site.id) if counters is None else counters
    at_counter = {t.counter: t for t in open_now if t.counter is not None}
    views = [
        CounterView(
            config=counter,
            status=states[counter.id].status if counter.id in states else CounterStatus.CLOSED,
            current=at_counter.get(counter.id),
        )
        for counter in site.counters
    ]
    return QueueState(
        waiting=[t for t in open_now if t.status is TicketStatus.WAITING],
        counters=views,
        service_minutes=(
            {}
            if history is not None
            else event_store.recent_service_minutes(
                session, site=site.id, since=now - SERVICE_HISTORY
            )
        ),
        default_minutes={s.id: s.default_service_minutes for s in site.services},
        history=history,
    )
