"""Stored forecasts: one site's table replaced in a transaction, read back by range."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from display_server.store.models import ForecastFitRow, ForecastRow, TicketRow

#: `issued_by` of tickets that the demo wrote as history; pages say the forecast is simulated.
SIMULATED_ISSUER = "simulated-history"
#: PostgreSQL advisory lock key held by the process that is refitting ("madoguchi" in ASCII).
REFIT_LOCK_KEY = 0x6D61646F67756368


@contextlib.contextmanager
def refit_lock(connection: Connection) -> Iterator[bool]:
    """Whether this process may refit now: only one process at a time may (the others, e.g.
    the workers of one server starting together, skip it). PostgreSQL: an advisory lock;
    a SQLite file: an exclusive `flock` on a file beside it; an in-memory database: always."""
    if connection.dialect.name == "postgresql":
        taken = bool(connection.scalar(select(func.pg_try_advisory_lock(REFIT_LOCK_KEY))))
        try:
            yield taken
        finally:
            if taken:
                connection.scalar(select(func.pg_advisory_unlock(REFIT_LOCK_KEY)))
        return
    database = connection.engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with open(f"{database}.refit-lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replace_site_forecasts(
    session: Session, *, site: str, rows: Iterable[Mapping[str, Any]], fitted_at: dt.datetime
) -> int:
    """Drop every stored forecast of `site` and store `rows` instead; returns how many.

    Each row has `service, hour_start` (aware), `arrivals, lo, hi, est_wait_min, level, model`.
    Replacing the whole site (not upserting hours) also drops hours that have since closed.
    """
    session.execute(delete(ForecastRow).where(ForecastRow.site == site))
    values = [{**row, "site": site, "fitted_at": fitted_at} for row in rows]
    if values:
        session.execute(insert(ForecastRow), values)
    return len(values)


def forecasts_between(
    session: Session, *, site: str, start: dt.datetime, end: dt.datetime
) -> Sequence[ForecastRow]:
    """The site's forecast hours with `start <= hour_start < end`, by hour then service."""
    query = (
        select(ForecastRow)
        .where(
            ForecastRow.site == site, ForecastRow.hour_start >= start, ForecastRow.hour_start < end
        )
        .order_by(ForecastRow.hour_start, ForecastRow.service)
    )
    return list(session.scalars(query))


def last_fitted(session: Session) -> dt.datetime | None:
    """When the stored forecasts were last fitted (all sites are fitted together)."""
    value = session.scalar(select(func.max(ForecastRow.fitted_at)))
    # An aggregate loses the column's type: SQLite hands back a naive string.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def record_fit(session: Session, *, fitted_at: dt.datetime, config_digest: str) -> None:
    """Note a refit of the whole ward and the digest of the configuration it used."""
    session.add(ForecastFitRow(fitted_at=fitted_at, config_digest=config_digest))


def last_fit_digest(session: Session) -> str | None:
    """The configuration digest of the newest refit (None: none recorded, e.g. forecasts
    fitted before the digest was kept)."""
    query = select(ForecastFitRow.config_digest).order_by(ForecastFitRow.id.desc()).limit(1)
    return session.scalar(query)


def has_simulated_history(session: Session) -> bool:
    """Whether the demo's simulated history is in the database.

    `issued_by` has no index: call this in demo mode only, where the simulated tickets are the
    table's first rows and the scan stops at once.
    """
    return bool(session.scalar(select(exists().where(TicketRow.issued_by == SIMULATED_ISSUER))))
