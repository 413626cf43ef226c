"""SQLAlchemy 2 models: tickets, the append-only event log, counters, sequences, users, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC, so SQLite (no time zones) and PostgreSQL agree."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("site", "numbered_service", "business_date", "number"),
        UniqueConstraint("site", "idempotency_key"),
        Index("ix_tickets_queue", "site", "business_date", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    site: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    #: The service whose daily sequence gave the number (the first step of the route).
    numbered_service: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(16))
    business_date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(Text)  # space-separated service ids
    route_index: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime]
    queued_at: Mapped[dt.datetime]
    counter: Mapped[str | None] = mapped_column(String(40))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    called_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    issued_by: Mapped[str | None] = mapped_column(String(80))


class EventRow(Base):
    """The append-only log: never updated, never deleted."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("site", "seq"),
        Index("ix_events_site_at", "site", "at"),
        Index("ix_events_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    counter: Mapped[str | None] = mapped_column(String(40))
    staff: Mapped[str | None] = mapped_column(String(80))
    service: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NumberSequenceRow(Base):
    """The last number issued per site, service and business day; locked while issuing."""

    __tablename__ = "number_sequences"

    site: Mapped[str] = mapped_column(String(40), primary_key=True)
    service: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)


class SiteSequenceRow(Base):
    """The last event sequence number per site."""

    __tablename__ = "site_sequences"

    site: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)


class CounterRow(Base):
    __tablename__ = "counters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    since: Mapped[dt.datetime | None]


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiTokenRow(Base):
    """Bearer tokens for devices (kiosks, displays, tablets); only a SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class ForecastRow(Base):
    """Expected arrivals and crowding per site, service and hour, as last fitted."""

    __tablename__ = "forecasts"
    __table_args__ = (UniqueConstraint("site", "service", "hour_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    hour_start: Mapped[dt.datetime]
    arrivals: Mapped[float]
    lo: Mapped[float]
    hi: Mapped[float]
    est_wait_min: Mapped[float | None]
    level: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(40))
    fitted_at: Mapped[dt.datetime]


class ForecastFitRow(Base):
    """One refit of the whole ward: when, and the digest of the configuration it used, so that
    a server started with another configuration (a new counter plan) refits at once."""

    __tablename__ = "forecast_fits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fitted_at: Mapped[dt.datetime]
    config_digest: Mapped[str] = mapped_column(String(64))


class DeviceStatusRow(Base):
    """The last reported state of a kiosk or its printer (paper out, cover open, offline …)."""

    __tablename__ = "device_status"

    device: Mapped[str] = mapped_column(String(80), primary_key=True)
    site: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime]


class FaqEntryRow(Base):
    """One FAQ entry (per service, or site-wide); `content` holds the texts per language."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str | None] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]]
    #: Normalised text (kana folded, readings added) that search matches against.
    search_text: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str | None] = mapped_column(String(80))


class FaqRevisionRow(Base):
    """Every saved version of an FAQ entry: the edit history."""

    __tablename__ = "faq_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("faq_entries.id"))
    action: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean)
    edited_at: Mapped[dt.datetime]
    edited_by: Mapped[str | None] = mapped_column(String(80))
