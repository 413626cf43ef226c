"""The event log's queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from display_server.core.tickets import Event, EventType
from display_server.store.events import (
    append_event,
    recent_service_minutes,
    visit_counter_minutes,
)
from tests.conftest import TUESDAY_10
from tests.display_server.store.factories import issue


def _ticket(session: Session) -> int:
    issued = issue(session)
    assert issued is not None
    return issued[0].id


def _log(
    session: Session, ticket_id: int, service: str, steps: list[tuple[EventType, int]],
    *, next_service: str | None = None,
) -> None:
    for kind, minute in steps:
        append_event(session, event=Event(
            type=kind, site="nerima", at=TUESDAY_10 + dt.timedelta(minutes=minute),
            ticket_id=ticket_id, counter="nerima-1", service=service,
            data={"next_service": next_service} if kind is EventType.ROUTED else {},
        ))


def test_counter_time_runs_from_the_last_call_to_completion(session: Session) -> None:
    first, second, third = (_ticket(session) for _ in range(3))
    # Called, not there, called again after a re-queue, recalled, walks up, served 10 minutes.
    _log(session, first, "moving", [
        (EventType.CALLED, 5), (EventType.NO_SHOW, 8), (EventType.REQUEUED, 9),
        (EventType.CALLED, 20), (EventType.RECALLED, 22), (EventType.STARTED, 23),
        (EventType.COMPLETED, 33),
    ])
    # A route: its first step is routed on to the next service, which is then served.
    _log(session, second, "moving", [(EventType.CALLED, 40), (EventType.ROUTED, 46)])
    _log(session, second, "seal", [(EventType.CALLED, 50), (EventType.COMPLETED, 53)])
    # Still at the counter: no duration yet.
    _log(session, third, "seal", [(EventType.CALLED, 55), (EventType.STARTED, 56)])
    minutes = recent_service_minutes(session, site="nerima", since=TUESDAY_10)
    assert minutes == {"moving": [13.0, 6.0], "seal": [3.0]}
    since = TUESDAY_10 + dt.timedelta(minutes=45)
    later = recent_service_minutes(session, site="nerima", since=since)
    assert later == {"seal": [3.0]}


def test_a_visit_costs_its_counters_from_each_call_to_its_end(session: Session) -> None:
    served, missed, back, left, gave_up, routed, moved, expired, busy = (
        _ticket(session) for _ in range(9)
    )
    _log(session, served, "moving", [(EventType.CALLED, 1), (EventType.COMPLETED, 11)])
    # Missed after two minutes of recalls and not back: the recalls are what it cost.
    _log(session, missed, "moving", [(EventType.CALLED, 12), (EventType.NO_SHOW, 14)])
    # Missed, back in line, called again and served: one visit of both calls.
    _log(session, back, "moving", [
        (EventType.CALLED, 15), (EventType.NO_SHOW, 18), (EventType.REQUEUED, 20),
        (EventType.CALLED, 30), (EventType.COMPLETED, 37),
    ])
    _log(session, left, "moving", [(EventType.CANCELLED, 21)])  # left before its call
    _log(session, gave_up, "moving", [(EventType.CALLED, 38), (EventType.CANCELLED, 39)])
    # Routed on: the first step's counter time, then a visit to the next service.
    _log(session, routed, "moving", [(EventType.CALLED, 40), (EventType.ROUTED, 46)],
         next_service="seal")
    _log(session, routed, "seal", [(EventType.CALLED, 50), (EventType.COMPLETED, 53)])
    # Sent on to another service from the counter; never called there before the day ended.
    _log(session, moved, "moving", [(EventType.CALLED, 41)])
    _log(session, moved, "tax", [(EventType.TRANSFERRED, 44), (EventType.EXPIRED, 60)])
    _log(session, expired, "moving", [(EventType.EXPIRED, 60)])
    _log(session, busy, "moving", [(EventType.CALLED, 58)])  # still at the counter
    minutes = visit_counter_minutes(session, site="nerima", since=TUESDAY_10)
    # In the order the visits ended in the log (as logged here, ticket by ticket).
    assert minutes == {"moving": [10.0, 2.0, 10.0, 0.0, 1.0, 6.0, 3.0], "seal": [3.0]}
    # Only the visits that began since then (the issue events are at TUESDAY_10).
    assert visit_counter_minutes(
        session, site="nerima", since=TUESDAY_10 + dt.timedelta(minutes=45)
    ) == {"seal": [3.0]}
    assert visit_counter_minutes(session, site="nerima", since=TUESDAY_10, per_service=2) == {
        "moving": [6.0, 3.0], "seal": [3.0],
    }
