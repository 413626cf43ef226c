"""The event log's queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from display_server.core.tickets import Event, EventType
from display_server.store.events import append_event, recent_service_minutes
from tests.conftest import TUESDAY_10
from tests.display_server.store.factories import issue


def _ticket(session: Session) -> int:
    issued = issue(session)
    assert issued is not None
    return issued[0].id


def _log(
    session: Session, ticket_id: int, service: str, steps: list[tuple[EventType, int]]
) -> None:
    for kind, minute in steps:
        append_event(session, event=Event(
            type=kind, site="nerima", at=TUESDAY_10 + dt.timedelta(minutes=minute),
            ticket_id=ticket_id, counter="nerima-1", service=service,
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
