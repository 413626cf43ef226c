"""Engines, sessions and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and write-locking transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front (IMMEDIATE): a deferred transaction that reads, then
        # writes, fails at once with SQLITE_BUSY when another process wrote in between, which
        # would break atomic numbering under several workers. Readers stay deferred so that
        # they never hold the write lock.
        immediate = connection.get_execution_options().get(_WRITER_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_WRITER_OPTION = "madoguchi_writer"


def make_sessionmaker(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (`writer`) for transactions that will change data."""
    bind = engine.execution_options(**{_WRITER_OPTION: True}) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (creating it when empty)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
