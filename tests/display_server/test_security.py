"""Device tokens: a checked token is trusted for `token_cache_s`, then read again."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response

from display_server.app import create_app
from display_server.security import DeviceTokenCache, Principal, Role
from display_server.store.models import ApiTokenRow
from tests.conftest import FakeClock, make_settings
from tests.helpers import make_token, runtime_of

KIOSK = Principal(name="token:1", role=Role.KIOSK, site="nerima")
TICKETS = "/api/v1/sites/nerima/tickets"
MOVING = {"service": "moving"}


def test_a_kept_token_is_known_until_its_time_runs_out() -> None:
    cache = DeviceTokenCache(ttl_s=0.05)
    cache.keep("secret-a", KIOSK)
    assert cache.get("secret-a") == KIOSK
    assert cache.get("secret-b") is None
    time.sleep(0.06)
    assert cache.get("secret-a") is None


def test_a_zero_time_keeps_nothing() -> None:
    cache = DeviceTokenCache(ttl_s=0)
    cache.keep("secret-a", KIOSK)
    assert cache.get("secret-a") is None


def revoke_all(client: TestClient) -> None:
    with runtime_of(client).sessions() as session:
        session.execute(sa.update(ApiTokenRow).values(revoked_at=dt.datetime.now(dt.UTC)))
        session.commit()


def issues_after_revoking(
    database_url: str, clock: FakeClock, *, cache_s: float, pause_s: float
) -> tuple[Response, Response]:
    """Issue with a kiosk token, revoke it, issue at once and again after `pause_s`."""
    settings = make_settings(database_url, token_cache_s=cache_s)
    with TestClient(create_app(settings, clock=clock)) as client:
        kiosk = make_token(client, "kiosk", "nerima")
        assert client.post(TICKETS, json=MOVING, headers=kiosk).status_code == 201
        revoke_all(client)
        at_once = client.post(TICKETS, json=MOVING, headers=kiosk)
        time.sleep(pause_s)
        later = client.post(TICKETS, json=MOVING, headers=kiosk)
    return at_once, later


def test_without_the_cache_a_revoked_token_is_refused_at_once(
    database_url: str, clock: FakeClock
) -> None:
    at_once, _ = issues_after_revoking(database_url, clock, cache_s=0, pause_s=0)
    assert at_once.status_code == 401
    assert "revoked" in at_once.json()["detail"]


def test_with_the_cache_a_revoked_token_works_until_the_cache_time_ends(
    database_url: str, clock: FakeClock
) -> None:
    at_once, later = issues_after_revoking(database_url, clock, cache_s=0.5, pause_s=0.6)
    assert at_once.status_code == 201
    assert later.status_code == 401
