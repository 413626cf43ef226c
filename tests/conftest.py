"""Shared fixtures: databases (SQLite always, PostgreSQL and Redis when configured), a
controllable clock, and an app with a client.

In CI `MADOGUCHI_TEST_REQUIRE_SERVICES=1` turns a missing PostgreSQL or Redis into a failure
instead of a skip.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.config import WardConfig, load_config
from display_server.settings import Clock, Settings
from display_server.store.db import upgrade

REQUIRE_SERVICES = os.environ.get("MADOGUCHI_TEST_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("MADOGUCHI_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("MADOGUCHI_TEST_REDIS_URL")
JST = dt.timezone(dt.timedelta(hours=9))
#: A Tuesday morning, well inside the example's opening hours.
TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


class FakeClock(Clock):
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime = TUESDAY_10) -> None:
        super().__init__(start)
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when


def service_missing(name: str) -> None:
    message = f"{name} is not configured for tests"
    if REQUIRE_SERVICES:
        pytest.fail(message + " but MADOGUCHI_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def example_config() -> WardConfig:
    return load_config()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'madoguchi.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _postgres_template() -> str:
    """A migrated template database; each test gets a fast copy of it."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL (MADOGUCHI_TEST_DATABASE_URL)")
    assert POSTGRES_URL
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"madoguchi_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    upgrade(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(_postgres_template: str) -> Iterator[str]:
    assert POSTGRES_URL
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"madoguchi_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template}"'))
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        service_missing("Redis (MADOGUCHI_TEST_REDIS_URL)")
    assert REDIS_URL
    return REDIS_URL


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "secure_cookies": False,
        "housekeeping_interval_s": 3600.0,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client
