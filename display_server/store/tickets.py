"""Ticket storage: atomic daily numbering, lookups and updates. The caller commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from display_server.core.tickets import Channel, Ticket, TicketStatus
from display_server.store.models import NumberSequenceRow, TicketRow

OPEN_STATUSES = [s.value for s in TicketStatus if s.is_open]
TICKET_FIELDS = list(TicketRow.__table__.columns)


#: The ticket columns labelled `ticket_<name>`, to read a ticket from a joined row.
TICKET_COLUMNS = [c.label(f"ticket_{c.key}") for c in TicketRow.__table__.columns]


def joined_ticket(row: Row[Any]) -> Ticket | None:
    """The ticket in a row that selected `TICKET_COLUMNS` (None when the join found none)."""
    values = row._mapping
    if values["ticket_id"] is None:
        return None
    return to_ticket(SimpleNamespace(**{c.key: values[f"ticket_{c.key}"] for c in TICKET_FIELDS}))


def to_ticket(row: TicketRow | Row[Any] | SimpleNamespace) -> Ticket:
    """The domain value of a stored row (an ORM object or a plain row of the table's columns)."""
    return Ticket(
        id=row.id,
        token=row.token,
        site=row.site,
        service=row.service,
        number=row.number,
        display_number=row.display_number,
        business_date=row.business_date,
        channel=Channel(row.channel),
        priority=row.priority,
        lang=row.lang,
        route=tuple(row.route.split()),
        route_index=row.route_index,
        status=TicketStatus(row.status),
        issued_at=row.issued_at,
        queued_at=row.queued_at,
        counter=row.counter,
        recalls=row.recalls,
        called_at=row.called_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


# Hot statements are built once: building one costs more Python than running it.
# Two columns: nearly every issue finds nothing, and describing a wide result costs too.
_BY_IDEMPOTENCY_KEY = select(TicketRow.id, TicketRow.request_hash).where(
    TicketRow.site == bindparam("site"), TicketRow.idempotency_key == bindparam("key")
)


def issued_counts(session: Session, *, site: str, business_date: dt.date) -> dict[str, int]:
    """How many tickets each service of the site has numbered on the day."""
    rows = session.execute(
        select(NumberSequenceRow.service, NumberSequenceRow.issued).where(
            NumberSequenceRow.site == site, NumberSequenceRow.business_date == business_date
        )
    )
    return {service: issued for service, issued in rows}


def save_ticket(session: Session, *, ticket: Ticket) -> None:
    """Write a ticket's changed state back."""
    session.execute(
        update(TicketRow)
        .where(TicketRow.id == ticket.id)
        .values(
            service=ticket.service,
            priority=ticket.priority,
            route=" ".join(ticket.route),
            route_index=ticket.route_index,
            status=ticket.status.value,
            queued_at=ticket.queued_at,
            counter=ticket.counter,
            recalls=ticket.recalls,
            called_at=ticket.called_at,
            started_at=ticket.started_at,
            finished_at=ticket.finished_at,
        )
    )


def by_idempotency_key(
    session: Session, *, site: str, key: str
) -> tuple[Ticket, str | None] | None:
    """The ticket issued earlier with `key` at `site`, with the hash of that request."""
    row = session.execute(_BY_IDEMPOTENCY_KEY, {"site": site, "key": key}).first()
    if row is None:
        return None
    ticket = by_id(session, ticket_id=row.id)
    assert ticket is not None
    return ticket, row.request_hash


def by_token(session: Session, *, token: str, for_update: bool = False) -> Ticket | None:
    query = select(TicketRow).where(TicketRow.token == token)
    row = session.scalars(query.with_for_update() if for_update else query).first()
    return to_ticket(row) if row else None


def by_id(session: Session, *, ticket_id: int, for_update: bool = False) -> Ticket | None:
    query = select(TicketRow).where(TicketRow.id == ticket_id)
    row = session.scalars(query.with_for_update() if for_update else query).first()
    return to_ticket(row) if row else None


def open_tickets(session: Session, *, site: str) -> list[Ticket]:
    """Every waiting, called or serving ticket of the site (any day: old ones await expiry)."""
    # Plain rows, not ORM objects: this runs on every request that shows an estimate.
    query = (
        select(*TicketRow.__table__.columns)
        .where(TicketRow.site == site, TicketRow.status.in_(OPEN_STATUSES))
        .order_by(TicketRow.id)
    )
    return [to_ticket(row) for row in session.execute(query)]


def at_counter(session: Session, *, counter: str) -> Ticket | None:
    """The ticket a counter has called or is serving, if any."""
    row = session.scalars(
        select(TicketRow).where(
            TicketRow.counter == counter,
            TicketRow.status.in_([TicketStatus.CALLED.value, TicketStatus.SERVING.value]),
        )
    ).first()
    return to_ticket(row) if row else None


def recent_calls(
    session: Session, *, site: str, business_date: dt.date, limit: int
) -> Sequence[Ticket]:
    """The day's tickets most recently called at a counter, newest first."""
    rows = session.execute(
        select(*TicketRow.__table__.columns)
        .where(
            TicketRow.site == site,
            TicketRow.business_date == business_date,
            TicketRow.called_at.is_not(None),
            TicketRow.counter.is_not(None),
        )
        .order_by(TicketRow.called_at.desc())
        .limit(limit)
    )
    return [to_ticket(row) for row in rows]


def recent_no_shows(session: Session, *, site: str, since: dt.datetime) -> list[Ticket]:
    rows = session.scalars(
        select(TicketRow)
        .where(
            TicketRow.site == site,
            TicketRow.status == TicketStatus.NO_SHOW.value,
            TicketRow.finished_at >= since,
        )
        .order_by(TicketRow.finished_at.desc())
    )
    return [to_ticket(row) for row in rows]
