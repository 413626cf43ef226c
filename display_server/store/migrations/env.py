"""Alembic environment: runs migrations against the URL set by `display_server.store.db.upgrade`."""

from __future__ import annotations

from alembic import context

from display_server.store.db import make_engine
from display_server.store.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by display_server.store.db.upgrade"
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
