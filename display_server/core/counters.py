"""Counter states: open and calling, paused (a break), closed for the day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from display_server.core.errors import InvalidTransition
from display_server.core.tickets import Event, EventType


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True)
class CounterState:
    id: str
    site: str
    status: CounterStatus
    since: dt.datetime | None = None


_EVENT_FOR = {
    CounterStatus.OPEN: EventType.COUNTER_OPENED,
    CounterStatus.PAUSED: EventType.COUNTER_PAUSED,
    CounterStatus.CLOSED: EventType.COUNTER_CLOSED,
}


def set_status(
    counter: CounterState,
    status: CounterStatus,
    *,
    now: dt.datetime,
    staff: str | None,
    busy: bool,
) -> tuple[CounterState, Event]:
    """Open, pause or close a counter; it cannot close while it still has a ticket called."""
    if counter.status is status:
        raise InvalidTransition(f"counter {counter.id} is already {status.value}")
    if status is CounterStatus.CLOSED and busy:
        raise InvalidTransition(
            f"counter {counter.id} still has a called ticket: complete or transfer it first"
        )
    changed = dataclasses.replace(counter, status=status, since=now)
    event = Event(
        type=_EVENT_FOR[status], site=counter.site, at=now, counter=counter.id, staff=staff
    )
    return changed, event
