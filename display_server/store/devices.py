"""The last reported state of each kiosk and printer (`device_status`), one row per device."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from display_server.store.models import DeviceStatusRow


@dataclass(frozen=True)
class Report:
    """What one report changed: the row as it is now and the state it replaced (None if new)."""

    row: DeviceStatusRow
    previous: str | None

    @property
    def changed(self) -> bool:
        return self.previous != self.row.state


def device(session: Session, *, device: str) -> DeviceStatusRow | None:
    """The device's row, or None before its first report."""
    return session.get(DeviceStatusRow, device)


def report(
    session: Session,
    *,
    device: str,
    site: str,
    kind: str,
    state: str,
    detail: str,
    now: dt.datetime,
) -> Report:
    """Insert or update the device's row (the caller has checked it belongs to `site`)."""
    row = session.get(DeviceStatusRow, device)
    previous = row.state if row else None
    if row is None:
        row = DeviceStatusRow(
            device=device, site=site, kind=kind, state=state, detail=detail, updated_at=now
        )
        session.add(row)
    else:
        row.kind, row.state, row.detail, row.updated_at = kind, state, detail, now
    session.flush()
    return Report(row=row, previous=previous)


def devices_of_site(session: Session, *, site: str) -> Sequence[DeviceStatusRow]:
    """Every device of the site that ever reported, by name."""
    query = select(DeviceStatusRow).where(DeviceStatusRow.site == site)
    return list(session.scalars(query.order_by(DeviceStatusRow.device)))
