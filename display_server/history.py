"""Each site's `QueueHistory` and open tickets, kept in step with the event log.

The log in the database is the truth, shared by every server process: before an estimate, a
process reads the events it has not seen yet (by per-site `seq`), feeds them to its history,
oldest first, and re-reads only the tickets those events touched, so all processes estimate from
the same facts without decoding the whole queue on every request. A cold history starts from
the last `LOOKBACK` of events; cold open tickets and counter states are read whole once (the
events before that read are fed without their tickets), and the counters again only after a
counter event. Requests of one site that wait while a catch-up runs share the next one.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from display_server.core.counters import CounterState
from display_server.core.estimate_model import QueueHistory
from display_server.core.tickets import EventType, Ticket
from display_server.store import counters as counter_store
from display_server.store import events as event_store
from display_server.store import tickets as ticket_store
from display_server.store.models import EventRow

#: Eight weeks: the calibration wants about 30 realised waits per score bin, and a service
#: with a dozen tickets a day fills few bins in two (after a restart it showed the model's
#: wide ranges for weeks).
LOOKBACK = dt.timedelta(weeks=8)
#: Events read per query while catching up.
BATCH = 5000
#: Events after which the site's counter states are read again.
COUNTER_EVENTS = frozenset(
    {EventType.COUNTER_OPENED, EventType.COUNTER_PAUSED, EventType.COUNTER_CLOSED}
)


@dataclass
class _Visit:
    """What the history needs to remember about one ticket between its events."""

    service: str | None
    queued_at: dt.datetime
    priority: bool
    #: The estimator's position score at issue (None when unknown, e.g. after a route step).
    score: float | None
    called_at: dt.datetime | None = None
    #: Whether it waits as a newcomer to its line and class does. A transferred or re-queued
    #: ticket keeps its place in line, a prioritised one waited first as an ordinary ticket:
    #: their waits say nothing about a newcomer's.
    newcomer: bool = True


@dataclass
class _SiteFeed:
    history: QueueHistory = field(default_factory=QueueHistory)
    seq: int | None = None
    visits: dict[int, _Visit] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The site's open tickets and counter states as of event `tickets_seq` (None until read).
    tickets: dict[int, Ticket] | None = None
    counters: dict[str, CounterState] = field(default_factory=dict)
    tickets_seq: int = 0
    #: The last catch-up's result and when it began (`time.monotonic()`).
    view: SiteView | None = None
    caught_up_at: float = 0.0

    def feed(self, row: Row[Any]) -> None:
        kind, at, service = EventType(row.type), row.at, row.service
        history, visit = self.history, self.visits.get(row.ticket_id or -1)
        if kind is EventType.ISSUED and row.ticket_id is not None:
            priority = bool(row.data.get("priority", False))
            score = row.data.get("score")
            self.visits[row.ticket_id] = _Visit(
                service, at, priority, float(score) if score is not None else None
            )
            if service:
                history.arrived(service, priority=priority, at=at)
        elif kind is EventType.REQUEUED and row.ticket_id is not None:
            # Back at its old place after a missed call: its counter time is a service like any
            # other, its wait no newcomer's.
            priority = bool(row.data.get("priority", False))
            self.visits[row.ticket_id] = _Visit(service, at, priority, None, newcomer=False)
        elif visit is None or service is None:
            return  # a ticket issued before the look-back window, or a counter event
        elif kind is EventType.PRIORITISED:
            visit.priority, visit.newcomer = True, False
            history.arrived(service, priority=True, at=at)
        elif kind is EventType.CALLED:
            # Whether the visitor leaves the line served is known at the visit's end: a
            # no-show or a cancellation after the call needed no service either.
            if visit.newcomer:
                minutes = (at - visit.queued_at).total_seconds() / 60
                history.waited(service, minutes, at=at, score=visit.score, priority=visit.priority)
            visit.called_at, visit.score = at, None
        elif kind in (EventType.COMPLETED, EventType.ROUTED):
            history.left_line(service, served=True, at=at)
            if visit.called_at is not None:
                history.service_done(service, (at - visit.called_at).total_seconds() / 60, at=at)
            if kind is EventType.ROUTED:
                next_service = row.data.get("next_service")
                self.visits[row.ticket_id or -1] = _Visit(next_service, at, visit.priority, None)
            else:
                self.visits.pop(row.ticket_id or -1, None)
        elif kind is EventType.TRANSFERRED:
            if visit.called_at is not None:
                history.left_line(visit.service or service, served=True, at=at)  # attended
            visit.service, visit.score, visit.called_at = service, None, None
            visit.newcomer = False
        elif kind in (EventType.CANCELLED, EventType.NO_SHOW, EventType.EXPIRED):
            history.left_line(service, served=False, at=at)
            self.visits.pop(row.ticket_id or -1, None)


@dataclass(frozen=True)
class SiteView:
    """A site as of the events a process has read: what every estimate starts from."""

    history: QueueHistory
    #: Waiting, called and serving tickets (any day: old ones await expiry), by id.
    open_tickets: list[Ticket]
    counters: dict[str, CounterState]


class SiteHistories:
    """One history per site for this process, caught up from the log on every use."""

    def __init__(self) -> None:
        self._feeds: dict[str, _SiteFeed] = {}
        self._guard = threading.Lock()

    def get(self, session: Session, *, site: str, now: dt.datetime) -> SiteView:
        """The site with every event committed before this call applied.

        Call it from a read session, or in a write transaction before it logs any event: an
        event of a transaction that is later rolled back must never be fed (its seq would be
        reused by another event, which the history would then skip).
        """
        asked = time.monotonic()
        with self._guard:
            feed = self._feeds.setdefault(site, _SiteFeed())
        # Hold a connection before the lock: a thread holding the lock must never wait for the
        # pool, or it deadlocks with a writer that holds a connection and waits for the lock.
        session.connection()
        with feed.lock:
            # Under load many requests of one site wait here at once: a catch-up that began
            # after this one asked has read everything committed before it, so it serves all.
            if feed.view is None or feed.caught_up_at < asked:
                feed.caught_up_at = time.monotonic()
                feed.view = _catch_up(session, feed, site=site, now=now)
            return feed.view


def _catch_up(session: Session, feed: _SiteFeed, *, site: str, now: dt.datetime) -> SiteView:
    if feed.tickets is None:
        # The seq first: a ticket or counter changed after it is read again below.
        feed.tickets_seq = event_store.current_seq(session, site=site)
        feed.tickets = {t.id: t for t in ticket_store.open_tickets(session, site=site)}
        feed.counters = counter_store.site_counters(session, site=site)
    if feed.seq is None:
        feed.seq = _seq_before(session, site=site, since=now - LOOKBACK)
    if feed.seq < feed.tickets_seq:
        _feed_known(session, feed, site=site)
    counters_changed = False
    while True:
        rows = event_store.events_with_tickets_after(
            session, site=site, seq=feed.seq, limit=BATCH
        )
        for row, ticket in rows:
            feed.feed(row)
            feed.seq = row.seq
            if row.seq <= feed.tickets_seq:
                continue  # already reflected in the tickets read whole
            if ticket is not None and ticket.status.is_open:
                feed.tickets[ticket.id] = ticket
            elif row.ticket_id is not None:
                feed.tickets.pop(row.ticket_id, None)
            counters_changed = counters_changed or row.type in COUNTER_EVENTS
        if len(rows) < BATCH:
            break
    if counters_changed:
        feed.counters = counter_store.site_counters(session, site=site)
    feed.tickets_seq = max(feed.tickets_seq, feed.seq)
    return SiteView(
        history=feed.history,
        open_tickets=[feed.tickets[ticket_id] for ticket_id in sorted(feed.tickets)],
        counters=dict(feed.counters),
    )


def _feed_known(session: Session, feed: _SiteFeed, *, site: str) -> None:
    """Feed the events up to `feed.tickets_seq`, whose tickets were read whole: without the
    join to their tickets, which made a cold start's weeks of events three times slower."""
    assert feed.seq is not None
    while True:
        rows = event_store.events_after(
            session, site=site, seq=feed.seq, upto=feed.tickets_seq, limit=BATCH
        )
        for row in rows:
            feed.feed(row)
        if len(rows) < BATCH:
            feed.seq = feed.tickets_seq
            return
        feed.seq = rows[-1].seq


def _seq_before(session: Session, *, site: str, since: dt.datetime) -> int:
    """The seq of the site's last event before `since` (0 when there is none)."""
    seq = session.scalar(
        select(EventRow.seq)
        .where(EventRow.site == site, EventRow.at < since)
        .order_by(EventRow.seq.desc())
        .limit(1)
    )
    return int(seq or 0)
