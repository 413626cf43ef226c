"""What the floor view reads besides tickets: who called which ticket, and device trouble."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from display_server.core.tickets import EventType
from display_server.store.models import DeviceStatusRow, EventRow

_HANDLING = [EventType.CALLED.value, EventType.RECALLED.value, EventType.STARTED.value]


def handlers(session: Session, *, ticket_ids: Iterable[int]) -> dict[int, str]:
    """The staff member who last called, recalled or started each ticket."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(EventRow.ticket_id, EventRow.staff)
        .where(EventRow.ticket_id.in_(ids), EventRow.type.in_(_HANDLING))
        .order_by(EventRow.seq)
    )
    # Later events overwrite earlier ones: the newest handler wins.
    return {ticket_id: staff for ticket_id, staff in rows if ticket_id is not None and staff}


def device_problems(session: Session, *, site: str) -> Sequence[DeviceStatusRow]:
    """Kiosks and printers of the site whose last reported state is not "ok"."""
    query = (
        select(DeviceStatusRow)
        .where(DeviceStatusRow.site == site, DeviceStatusRow.state != "ok")
        .order_by(DeviceStatusRow.device)
    )
    return list(session.scalars(query))
