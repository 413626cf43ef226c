"""Issuing on both databases: PostgreSQL numbers, stores and logs in one SQL statement, SQLite
in several; both must give the same numbers, display numbers, events and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from display_server.core.rules import NumberFormat
from display_server.store.models import EventRow, NumberSequenceRow, TicketRow
from tests.display_server.store.factories import issue


@pytest.mark.parametrize(
    ("number_format", "first_number"),
    [(NumberFormat("A", 3), 998), (NumberFormat("KB", 4), 7), (NumberFormat("", 0), 99)],
)
def test_display_numbers_follow_the_format_and_padding_never_cuts_digits(
    session: Session, number_format: NumberFormat, first_number: int
) -> None:
    shown = []
    for _ in range(3):
        issued = issue(session, first_number=first_number, number_format=number_format)
        assert issued is not None
        shown.append(issued[0].display_number)
    session.commit()
    numbers = range(first_number, first_number + 3)
    assert shown == [number_format.format(n) for n in numbers]
    stored = session.execute(
        select(TicketRow.number, TicketRow.display_number).order_by(TicketRow.id)
    )
    assert [tuple(row) for row in stored] == list(zip(numbers, shown, strict=True))


def test_the_ticket_and_its_event_are_stored_together(session: Session) -> None:
    first = issue(session)
    second = issue(session)
    assert first is not None and second is not None
    session.commit()
    for ticket, (seq, event) in (first, second):
        row = session.execute(select(EventRow).where(EventRow.seq == seq)).scalar_one()
        assert row.ticket_id == ticket.id == event.ticket_id
        assert row.type == "issued" and row.staff == "kiosk-1" and row.service == "moving"
        assert row.data == {"channel": "kiosk", "score": 1.5, "number": ticket.display_number}
        assert event.data == row.data
        assert session.get(TicketRow, ticket.id).issued_by == "kiosk-1"  # type: ignore[union-attr]
    assert [first[1][0], second[1][0]] == [1, 2]


def test_at_the_limit_nothing_is_numbered_stored_or_logged(session: Session) -> None:
    assert issue(session, limit=2) is not None
    assert issue(session, limit=2) is not None
    session.commit()
    assert issue(session, limit=2) is None
    session.commit()
    assert session.scalar(select(NumberSequenceRow.issued)) == 2
    assert session.scalar(select(func.count()).select_from(TicketRow)) == 2
    assert session.scalar(select(func.count()).select_from(EventRow)) == 2


def test_a_rolled_back_issue_gives_its_number_and_seq_back(session: Session) -> None:
    issued = issue(session)
    assert issued is not None and issued[0].number == 1
    session.rollback()
    again = issue(session)
    assert again is not None
    assert (again[0].number, again[1][0]) == (1, 1)


def test_a_used_idempotency_key_takes_nothing(session: Session) -> None:
    assert issue(session, key="k1") is not None
    session.commit()
    assert issue(session, key="k1") is None  # a retry: the caller looks the ticket up
    session.commit()
    assert session.scalar(select(NumberSequenceRow.issued)) == 1
    assert session.scalar(select(func.count()).select_from(EventRow)) == 1
    assert issue(session, key="k2") is not None  # another key is another ticket
