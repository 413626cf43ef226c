"""Stored tickets for the store's tests (and others that need a ticket row behind an event)."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from display_server.core.rules import NumberFormat
from display_server.core.tickets import UNSTORED_ID, Channel, Event, EventType, Ticket, TicketStatus
from display_server.store import issuing
from tests.conftest import TUESDAY_10

PREFIXED = NumberFormat("A", 3)


def unnumbered(service: str = "moving") -> Ticket:
    return Ticket(
        id=UNSTORED_ID,
        token=secrets.token_urlsafe(24),
        site="nerima",
        service=service,
        number=0,
        display_number="",
        business_date=TUESDAY_10.date(),
        channel=Channel.KIOSK,
        priority=False,
        lang="ja",
        route=(service,),
        route_index=0,
        status=TicketStatus.WAITING,
        issued_at=TUESDAY_10,
        queued_at=TUESDAY_10,
    )


def issue(
    session: Session,
    *,
    first_number: int = 1,
    limit: int = 999,
    number_format: NumberFormat = PREFIXED,
    key: str | None = None,
) -> tuple[Ticket, tuple[int, Event]] | None:
    ticket = unnumbered()
    event = Event(
        type=EventType.ISSUED,
        site=ticket.site,
        at=TUESDAY_10,
        staff="kiosk-1",
        service=ticket.service,
        data={"channel": "kiosk", "score": 1.5},
    )
    return issuing.issue(
        session,
        ticket=ticket,
        first_number=first_number,
        limit=limit,
        number_format=number_format,
        issued=event,
        idempotency_key=key,
        request_hash=None,
        issued_by="kiosk-1",
    )
