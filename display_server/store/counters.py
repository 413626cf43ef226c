"""Counter state rows, kept in step with the configuration."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from display_server.config import WardConfig
from display_server.core.counters import CounterState, CounterStatus
from display_server.store.models import CounterRow


def sync_counters(session: Session, *, config: WardConfig) -> None:
    """Create a (closed) row for every configured counter that has none yet."""
    dialect = session.get_bind().dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CounterRow)
    for site, counter in config.counters():
        # Several workers start at once: whoever comes second must not fail.
        session.execute(
            upsert.values(
                id=counter.id, site=site.id, status=CounterStatus.CLOSED.value
            ).on_conflict_do_nothing()
        )


def get_counter(session: Session, *, counter: str, for_update: bool = False) -> CounterState | None:
    query = select(CounterRow).where(CounterRow.id == counter)
    row = session.scalars(query.with_for_update() if for_update else query).first()
    if row is None:
        return None
    return CounterState(id=row.id, site=row.site, status=CounterStatus(row.status), since=row.since)


def site_counters(session: Session, *, site: str) -> dict[str, CounterState]:
    rows = session.scalars(select(CounterRow).where(CounterRow.site == site))
    return {
        row.id: CounterState(
            id=row.id, site=row.site, status=CounterStatus(row.status), since=row.since
        )
        for row in rows
    }


def save_counter(session: Session, *, counter: CounterState) -> None:
    session.execute(
        update(CounterRow)
        .where(CounterRow.id == counter.id)
        .values(status=counter.status.value, since=counter.since)
    )
