"""Tickets, their lifecycle and the events every change records.

Pure: values in, values out, `now` passed in. A transition returns the new ticket and the event
that describes it; the store persists both in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from display_server.core.errors import InvalidTransition


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Still needs a counter's attention today."""
        return self in (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)


class Channel(StrEnum):
    KIOSK = "kiosk"
    STAFF = "staff"
    REMOTE = "remote"


class EventType(StrEnum):
    ISSUED = "issued"
    CALLED = "called"
    RECALLED = "recalled"
    STARTED = "started"
    COMPLETED = "completed"
    ROUTED = "routed"
    NO_SHOW = "no_show"
    REQUEUED = "requeued"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PRIORITISED = "prioritised"
    COUNTER_OPENED = "counter_opened"
    COUNTER_PAUSED = "counter_paused"
    COUNTER_CLOSED = "counter_closed"
    DEVICE_STATUS = "device_status"


#: The id of a ticket not stored yet (ids only grow): in line after every stored one.
UNSTORED_ID = 2**62


@dataclass(frozen=True)
class Ticket:
    """One visitor's ticket; `service` is the step of the route being queued for or served."""

    id: int
    token: str
    site: str
    service: str
    number: int
    display_number: str
    business_date: dt.date
    channel: Channel
    priority: bool
    lang: str
    route: tuple[str, ...]
    route_index: int
    status: TicketStatus
    issued_at: dt.datetime
    #: The ticket's place in line: kept across transfers and re-queues, reset when a route
    #: moves on to its next service.
    queued_at: dt.datetime
    counter: str | None = None
    recalls: int = 0
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def next_service(self) -> str | None:
        """The service the route goes to after the current step, if any."""
        following = self.route_index + 1
        return self.route[following] if following < len(self.route) else None

    def queue_key(self) -> tuple[bool, dt.datetime, int]:
        """Sort key of the waiting line: priority first, then place in line, then issue order."""
        return (not self.priority, self.queued_at, self.id)


@dataclass(frozen=True)
class Event:
    """One append-only log entry; `seq` is given by the store, per site, in commit order."""

    type: EventType
    site: str
    at: dt.datetime
    ticket_id: int | None = None
    counter: str | None = None
    staff: str | None = None
    service: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def _require(ticket: Ticket, *allowed: TicketStatus, action: str) -> None:
    if ticket.status not in allowed:
        raise InvalidTransition(
            f"cannot {action} ticket {ticket.display_number}: it is {ticket.status.value}"
        )


def _event(
    ticket: Ticket, kind: EventType, now: dt.datetime, staff: str | None, **data: Any
) -> Event:
    return Event(
        type=kind,
        site=ticket.site,
        at=now,
        ticket_id=ticket.id,
        counter=ticket.counter,
        staff=staff,
        service=ticket.service,
        data=data,
    )


def call(
    ticket: Ticket, *, counter: str, now: dt.datetime, staff: str | None
) -> tuple[Ticket, Event]:
    _require(ticket, TicketStatus.WAITING, action="call")
    called = dataclasses.replace(
        ticket, status=TicketStatus.CALLED, counter=counter, called_at=now, recalls=0
    )
    return called, _event(called, EventType.CALLED, now, staff)


def recall(ticket: Ticket, *, now: dt.datetime, staff: str | None) -> tuple[Ticket, Event]:
    _require(ticket, TicketStatus.CALLED, action="recall")
    recalled = dataclasses.replace(ticket, recalls=ticket.recalls + 1, called_at=now)
    return recalled, _event(recalled, EventType.RECALLED, now, staff, recalls=recalled.recalls)


def start(ticket: Ticket, *, now: dt.datetime, staff: str | None) -> tuple[Ticket, Event]:
    _require(ticket, TicketStatus.CALLED, action="start serving")
    serving = dataclasses.replace(ticket, status=TicketStatus.SERVING, started_at=now)
    return serving, _event(serving, EventType.STARTED, now, staff)


def complete(ticket: Ticket, *, now: dt.datetime, staff: str | None) -> tuple[Ticket, Event]:
    """Finish the current step: done, or on to the route's next service with a new place."""
    _require(ticket, TicketStatus.CALLED, TicketStatus.SERVING, action="complete")
    following = ticket.next_service
    if following is None:
        done = dataclasses.replace(ticket, status=TicketStatus.DONE, finished_at=now)
        return done, _event(done, EventType.COMPLETED, now, staff)
    completed_event = _event(ticket, EventType.ROUTED, now, staff, next_service=following)
    moved = dataclasses.replace(
        ticket,
        status=TicketStatus.WAITING,
        service=following,
        route_index=ticket.route_index + 1,
        queued_at=now,
        counter=None,
        recalls=0,
        called_at=None,
        started_at=None,
    )
    return moved, completed_event


def no_show(
    ticket: Ticket, *, now: dt.datetime, staff: str | None, recalls_required: int
) -> tuple[Ticket, Event]:
    """Mark a called ticket as not answered, once it was recalled `recalls_required` times."""
    _require(ticket, TicketStatus.CALLED, action="mark as no-show")
    if ticket.recalls < recalls_required:
        raise InvalidTransition(
            f"ticket {ticket.display_number} was recalled {ticket.recalls} of "
            f"{recalls_required} times required before a no-show"
        )
    missed = dataclasses.replace(ticket, status=TicketStatus.NO_SHOW, finished_at=now)
    return missed, _event(missed, EventType.NO_SHOW, now, staff)


def requeue(
    ticket: Ticket, *, now: dt.datetime, staff: str | None, rejoin_minutes: int
) -> tuple[Ticket, Event]:
    """A no-show visitor came back within the rejoin window: back in line at the old place."""
    _require(ticket, TicketStatus.NO_SHOW, action="re-queue")
    assert ticket.finished_at is not None
    if now - ticket.finished_at > dt.timedelta(minutes=rejoin_minutes):
        raise InvalidTransition(
            f"ticket {ticket.display_number} missed its call more than {rejoin_minutes} minutes ago"
        )
    back = dataclasses.replace(
        ticket,
        status=TicketStatus.WAITING,
        counter=None,
        recalls=0,
        called_at=None,
        finished_at=None,
    )
    # Its class, for whoever follows the ticket from its events (the no-show ended its visit).
    return back, _event(back, EventType.REQUEUED, now, staff, priority=back.priority)


def transfer(
    ticket: Ticket, *, service: str, now: dt.datetime, staff: str | None
) -> tuple[Ticket, Event]:
    """Send the ticket to another service of the site; it keeps its place in line."""
    _require(
        ticket, TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING, action="transfer"
    )
    if service == ticket.service:
        raise InvalidTransition(f"ticket {ticket.display_number} is already for {service}")
    route = list(ticket.route)
    route[ticket.route_index] = service
    moved = dataclasses.replace(
        ticket,
        status=TicketStatus.WAITING,
        service=service,
        route=tuple(route),
        counter=None,
        recalls=0,
        called_at=None,
        started_at=None,
    )
    event = _event(moved, EventType.TRANSFERRED, now, staff, from_service=ticket.service)
    return moved, dataclasses.replace(event, counter=ticket.counter)


def prioritise(ticket: Ticket, *, now: dt.datetime, staff: str | None) -> tuple[Ticket, Event]:
    _require(ticket, TicketStatus.WAITING, action="prioritise")
    if ticket.priority:
        raise InvalidTransition(f"ticket {ticket.display_number} already has priority")
    raised = dataclasses.replace(ticket, priority=True)
    return raised, _event(raised, EventType.PRIORITISED, now, staff)


def cancel(ticket: Ticket, *, now: dt.datetime, staff: str | None) -> tuple[Ticket, Event]:
    _require(ticket, TicketStatus.WAITING, TicketStatus.CALLED, action="cancel")
    gone = dataclasses.replace(ticket, status=TicketStatus.CANCELLED, finished_at=now)
    return gone, _event(gone, EventType.CANCELLED, now, staff)


def expire(ticket: Ticket, *, now: dt.datetime) -> tuple[Ticket, Event]:
    """The office closed (or the day rolled over) with the ticket still open."""
    _require(
        ticket, TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING, action="expire"
    )
    gone = dataclasses.replace(ticket, status=TicketStatus.EXPIRED, finished_at=now)
    return gone, _event(gone, EventType.EXPIRED, now, None)
