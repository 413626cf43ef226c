"""Plain helpers for test data: tokens, users, tickets and counters through the real stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from display_server.runtime import Runtime
from display_server.security import hash_password, new_device_token
from display_server.store import auth as auth_store


def runtime_of(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def settle(client: TestClient) -> None:
    """Wait until the live status of every change so far has been published."""
    assert client.portal is not None
    client.portal.call(runtime_of(client).status_refresh.idle)


def make_token(client: TestClient, role: str, site: str | None = None) -> dict[str, str]:
    """A bearer token of `role`, returned as request headers."""
    runtime = runtime_of(client)
    secret = new_device_token()
    with runtime.sessions() as session:
        auth_store.add_token(
            session, token=secret, role=role, site=site, label="test", now=dt.datetime.now(dt.UTC)
        )
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def make_user(
    client: TestClient, name: str, role: str, password: str, site: str | None = None
) -> None:
    runtime = runtime_of(client)
    with runtime.sessions() as session:
        auth_store.add_user(
            session,
            name=name,
            password_hash=hash_password(password),
            role=role,
            site=site,
            now=dt.datetime.now(dt.UTC),
        )
        session.commit()


def issue(
    client: TestClient,
    headers: dict[str, str],
    site: str = "nerima",
    service: str = "moving",
    **body: Any,
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/sites/{site}/tickets", json={"service": service, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def counter_action(
    client: TestClient, headers: dict[str, str], counter: str, action: str, **body: Any
) -> Any:
    return client.post(f"/api/v1/counters/{counter}/{action}", json=body or None, headers=headers)
