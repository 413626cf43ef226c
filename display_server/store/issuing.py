"""Issuing: number a new ticket, store it and log its `issued` event. The caller commits.

On PostgreSQL the three happen in one statement (data-modifying CTEs), so the service's number
row and the site's sequence row are locked for a single round trip: with several transactions
in flight, every further round trip made under those locks is time other issuers of the site
spend waiting. SQLite serialises writers on its database lock anyway and runs them in turn.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from sqlalchemy import JSON, Table, Text, bindparam, exists, func, insert, literal, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from display_server.core.rules import NumberFormat
from display_server.core.tickets import Event, Ticket
from display_server.store import events as event_store
from display_server.store.models import EventRow, NumberSequenceRow, SiteSequenceRow, TicketRow

_NUMBERS = cast(Table, NumberSequenceRow.__table__)
_TICKETS = cast(Table, TicketRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)
_SEQUENCES = cast(Table, SiteSequenceRow.__table__)

#: The ticket columns the statement fills from the request (the rest come from the number).
_TICKET_VALUES = [
    "token", "site", "service", "numbered_service", "business_date", "channel", "priority",
    "lang", "route", "route_index", "status", "issued_at", "queued_at", "recalls",
    "idempotency_key", "request_hash", "issued_by",
]  # fmt: skip
_EVENT_VALUES = ["site", "type", "at", "counter", "staff", "service"]


def _take_number_statement(dialect: Any) -> Any:
    """Count one more ticket for the day; no row when `limit` were issued already or a ticket
    of the site has the request's Idempotency-Key (a retry: nothing is taken for it)."""
    retry = exists().where(
        _TICKETS.c.site == bindparam("site"),
        _TICKETS.c.idempotency_key == bindparam("idempotency_key"),
    )
    first_of_day: Any = select(
        bindparam("site"), bindparam("numbered_service"), bindparam("business_date"), literal(1)
    ).where(~retry)
    return (
        dialect.insert(_NUMBERS)
        .from_select(["site", "service", "business_date", "issued"], first_of_day)
        .on_conflict_do_update(
            index_elements=["site", "service", "business_date"],
            set_={"issued": _NUMBERS.c.issued + 1},
            where=_NUMBERS.c.issued < bindparam("limit"),
        )
        .returning(_NUMBERS.c.issued)
    )


def _issue_in_one_statement() -> Any:
    taken = _take_number_statement(postgresql).cte("taken")
    number = (bindparam("first") + taken.c.issued - 1).label("number")
    digits = sql_cast(number, Text)
    # NumberFormat.format in SQL: zero-padded to the width, never cut (lpad would cut).
    display = (
        bindparam("prefix", type_=Text)
        + func.lpad(digits, func.greatest(bindparam("width"), func.length(digits)), "0")
    ).label("display_number")
    ticket = (
        insert(_TICKETS)
        .from_select(
            [*_TICKET_VALUES, "number", "display_number"],
            select(
                *(bindparam(name, type_=_TICKETS.c[name].type) for name in _TICKET_VALUES),
                number,
                display,
            ),
        )
        .returning(_TICKETS.c.id, _TICKETS.c.number, _TICKETS.c.display_number)
        .cte("ticket")
    )
    seq = (
        postgresql.insert(_SEQUENCES)
        .from_select(["site", "seq"], select(bindparam("site"), literal(1)).select_from(ticket))
        .on_conflict_do_update(index_elements=["site"], set_={"seq": _SEQUENCES.c.seq + 1})
        .returning(_SEQUENCES.c.seq)
        .cte("next_seq")
    )
    data = sql_cast(
        sql_cast(bindparam("data", type_=JSON), JSONB).op("||")(
            func.jsonb_build_object("number", ticket.c.display_number)
        ),
        JSON,
    )
    event = (
        insert(_EVENTS)
        .from_select(
            [*_EVENT_VALUES, "ticket_id", "data", "seq"],
            select(
                *(bindparam(f"event_{name}", type_=_EVENTS.c[name].type) for name in _EVENT_VALUES),
                ticket.c.id,
                data,
                seq.c.seq,
            ).join_from(ticket, seq, true()),
        )
        .returning(_EVENTS.c.seq)
        .cte("event")
    )
    return select(ticket.c.id, ticket.c.number, ticket.c.display_number, event.c.seq).join_from(
        ticket, event, true()
    )


# Built once: building a statement costs more Python than running it.
_ISSUE_POSTGRESQL = _issue_in_one_statement()
_TAKE_NUMBER_SQLITE = _take_number_statement(sqlite)
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)


def issue(
    session: Session,
    *,
    ticket: Ticket,
    first_number: int,
    limit: int,
    number_format: NumberFormat,
    issued: Event,
    idempotency_key: str | None,
    request_hash: str | None,
    issued_by: str | None,
) -> tuple[Ticket, tuple[int, Event]] | None:
    """Number `ticket` (its id, number and display number are ignored), store it and log
    `issued` for it; None when its service has numbered `limit` tickets today already, or when
    a ticket of the site was issued with `idempotency_key` (look it up: this is a retry).

    The day's numbers start at `first_number`; a rolled-back issue gives its number back, so numbers
    have no gaps. The event is logged with the ticket's id and, in `data["number"]`, its
    display number. Returns the stored ticket and the logged event with its sequence number.
    """
    values: dict[str, Any] = {  # the new ticket's row, but for its number
        "token": ticket.token,
        "site": ticket.site,
        "service": ticket.service,
        "numbered_service": ticket.service,
        "business_date": ticket.business_date,
        "channel": ticket.channel.value,
        "priority": ticket.priority,
        "lang": ticket.lang,
        "route": " ".join(ticket.route),
        "route_index": ticket.route_index,
        "status": ticket.status.value,
        "issued_at": ticket.issued_at,
        "queued_at": ticket.queued_at,
        "recalls": 0,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "issued_by": issued_by,
    }
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            _ISSUE_POSTGRESQL,
            {
                **values,
                "limit": limit,
                "first": first_number,
                "prefix": number_format.prefix,
                "width": number_format.width,
                "event_type": issued.type.value,
                "event_site": issued.site,
                "event_at": issued.at,
                "event_counter": issued.counter,
                "event_staff": issued.staff,
                "event_service": issued.service,
                "data": dict(issued.data),
            },
        ).first()
        if row is None:
            return None
        ticket_id, number, display_number, seq = row
        stored = dataclasses.replace(
            ticket, id=ticket_id, number=number, display_number=display_number
        )
        return stored, (seq, _for_ticket(issued, stored))
    taken = session.execute(_TAKE_NUMBER_SQLITE, {**values, "limit": limit}).scalar()
    if taken is None:
        return None
    number = first_number + taken - 1
    display_number = number_format.format(number)
    ticket_id = session.execute(
        _INSERT_TICKET, {**values, "number": number, "display_number": display_number}
    ).scalar_one()
    stored = dataclasses.replace(ticket, id=ticket_id, number=number, display_number=display_number)
    event = _for_ticket(issued, stored)
    return stored, (event_store.append_event(session, event=event), event)


def _for_ticket(issued: Event, ticket: Ticket) -> Event:
    return dataclasses.replace(
        issued, ticket_id=ticket.id, data={**issued.data, "number": ticket.display_number}
    )
