"""Two server processes sharing PostgreSQL and Redis: a call made through one reaches the screens
and phones connected to the other."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.e2e.browser import LiveServer, add_token, issue_ticket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def two_servers(postgres_url: str, redis_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    # A channel prefix of its own keeps this run apart from others on the same Redis.
    pubsub = f"{redis_url}?channel_prefix=e2e-{uuid.uuid4().hex[:8]}:"
    env = {"MADOGUCHI_PUBSUB_URL": pubsub}
    servers = (LiveServer(postgres_url, env=env), LiveServer(postgres_url, env=env))
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def receive_until(socket: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(socket.recv(timeout=5))
        if message["type"] == kind:
            return dict(message)


def ws_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def test_a_call_through_one_process_reaches_clients_of_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_servers
    kiosk = add_token(one.database_url, "kiosk", "nerima")
    staff = {"Authorization": f"Bearer {add_token(one.database_url, 'staff', 'nerima')}"}
    ticket = issue_ticket(one, kiosk)
    with connect(ws_url(two, "/ws/sites/nerima")) as screen, connect(
        ws_url(two, f"/ws/tickets/{ticket['token']}")
    ) as phone:
        assert receive_until(screen, "snapshot")["seq"] == 1
        assert receive_until(phone, "ticket")["ticket"]["status"] == "waiting"
        for action in ("open", "call-next"):
            url = f"{one.url}/api/v1/counters/nerima-1/{action}"
            httpx.post(url, headers=staff).raise_for_status()
        called = receive_until(screen, "called")
        assert called["display_number"] == ticket["display_number"]
        assert called["seq"] == 3
        update = receive_until(phone, "ticket")
        while update["ticket"]["status"] != "called":
            update = receive_until(phone, "ticket")
        assert update["ticket"]["counter_label"] == "1"
    # A screen that reconnects to the other process with its last seq catches up from the log.
    with connect(ws_url(one, "/ws/sites/nerima?since=2")) as screen:
        assert receive_until(screen, "snapshot")["seq"] == 3
        assert receive_until(screen, "called")["seq"] == 3
