"""A writer session on each test database, for the store's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from display_server.store.db import make_engine, make_sessionmaker


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with make_sessionmaker(engine, writer=True)() as session:
        yield session
    engine.dispose()
