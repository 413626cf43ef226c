"""Plain builders of domain values for the core tests."""

from __future__ import annotations

import datetime as dt

from display_server.config import Counter, Names
from display_server.core.tickets import Channel, Ticket, TicketStatus

JST = dt.timezone(dt.timedelta(hours=9))
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=JST)


def ticket(
    ticket_id: int,
    service: str = "moving",
    *,
    minutes: float | None = None,
    priority: bool = False,
    status: TicketStatus = TicketStatus.WAITING,
    route: tuple[str, ...] | None = None,
) -> Ticket:
    """A ticket issued `minutes` (default: its id) minutes after 09:00."""
    at = T0 + dt.timedelta(minutes=ticket_id if minutes is None else minutes)
    return Ticket(
        id=ticket_id,
        token=f"tok{ticket_id}",
        site="nerima",
        service=service,
        number=ticket_id,
        display_number=f"A{ticket_id:03d}",
        business_date=at.date(),
        channel=Channel.KIOSK,
        priority=priority,
        lang="ja",
        route=route or (service,),
        route_index=0,
        status=status,
        issued_at=at,
        queued_at=at,
    )


def counter(services: tuple[str, ...], policy: str = "longest_wait") -> Counter:
    return Counter.model_validate(
        {
            "id": "c1",
            "name": Names(ja="1番窓口", en="Counter 1"),
            "label": "1",
            "services": services,
            "policy": policy,
        }
    )
