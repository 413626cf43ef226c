"""The websocket endpoints through starlette's TestClient: snapshot, changes, resync, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from display_server.app import create_app
from display_server.hub.base import QUEUE_SIZE
from display_server.live import site_channel
from display_server.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import counter_action, issue, make_token, runtime_of, settle


def call_one(client: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    kiosk = make_token(client, "kiosk", "nerima")
    staff = make_token(client, "staff", "nerima")
    first = issue(client, kiosk)
    assert counter_action(client, staff, "nerima-1", "open").status_code == 200
    settle(client)
    return first, staff


def until_snapshot(ws: Any, seq: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The changes received until the first snapshot at `seq` or later, and that snapshot."""
    changes = []
    while True:
        message = ws.receive_json()
        if message["type"] != "snapshot":
            changes.append(message)
        elif message["seq"] >= seq:
            return changes, message


def test_site_socket_sends_a_snapshot_then_changes_then_the_status(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    staff = make_token(client, "staff", "nerima")
    ticket = issue(client, kiosk)
    settle(client)
    with client.websocket_connect("/ws/sites/nerima") as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == snapshot["status"]["seq"] == 1
        assert snapshot["status"]["services"][0]["waiting"] == 1
        counter_action(client, staff, "nerima-1", "open")
        assert ws.receive_json()["type"] == "counter_opened"  # the change comes first
        assert counter_action(client, staff, "nerima-1", "call-next").status_code == 200
        changes, status = until_snapshot(ws, 3)
    assert [c["type"] for c in changes] == ["called"]
    called = changes[0]
    assert called["seq"] == 3
    assert called["display_number"] == ticket["display_number"]
    assert called["counter_label"] == "1"
    assert "status" not in called
    assert status["status"]["seq"] == 3
    assert status["status"]["services"][0]["waiting"] == 0
    assert status["status"]["calling"][0]["display_number"] == ticket["display_number"]


def test_a_burst_of_changes_arrives_in_order_and_the_status_catches_up(
    client: TestClient,
) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    with client.websocket_connect("/ws/sites/nerima") as ws:
        ws.receive_json()
        for _ in range(5):
            issue(client, kiosk)
        changes, status = until_snapshot(ws, 5)
    assert [c["seq"] for c in changes] == [1, 2, 3, 4, 5]
    assert status["status"]["services"][0]["waiting"] == 5


def test_ticket_socket_follows_position_and_the_call(client: TestClient) -> None:
    first, staff = call_one(client)
    second = issue(client, make_token(client, "kiosk", "nerima"))
    with client.websocket_connect(f"/ws/tickets/{second['token']}") as ws:
        start = ws.receive_json()
        assert start["type"] == "ticket"
        assert start["ticket"]["ahead"] == 1
        assert start["ticket"]["near"] is True  # 1 ahead ≤ policy.near_turn_ahead (3)
        counter_action(client, staff, "nerima-1", "call-next")  # calls `first`
        moved = ws.receive_json()["ticket"]
        assert (moved["status"], moved["ahead"]) == ("waiting", 0)
        counter_action(client, staff, "nerima-1", "complete")
        assert ws.receive_json()["ticket"]["status"] == "waiting"
        counter_action(client, staff, "nerima-1", "call-next")
        called = ws.receive_json()["ticket"]
    assert called["status"] == "called"
    assert called["counter_label"] == "1"
    assert first["token"] != second["token"]


def test_reconnect_with_since_replays_what_was_missed(client: TestClient) -> None:
    _, staff = call_one(client)  # seq 1 issued, 2 opened
    with client.websocket_connect("/ws/sites/nerima") as ws:
        assert ws.receive_json()["seq"] == 2
    counter_action(client, staff, "nerima-1", "call-next")  # seq 3, while "offline"
    with client.websocket_connect("/ws/sites/nerima?since=1") as ws:
        messages = [ws.receive_json() for _ in range(3)]
    # The snapshot may still be the one before the call (its status is computed after the
    # call's change is sent): the call is replayed all the same.
    assert messages[0]["type"] == "snapshot"
    assert messages[0]["seq"] in (2, 3)
    assert [(m["type"], m["seq"]) for m in messages[1:]] == [("counter_opened", 2), ("called", 3)]
    # Replayed from the log, their times are said in the office's time zone like the rest.
    assert all(m["at"].endswith("+09:00") for m in messages[1:])


def test_a_fresh_process_replays_from_the_event_log(settings: Settings, clock: FakeClock) -> None:
    with TestClient(create_app(settings, clock=clock)) as client:
        call_one(client)
    # Another process (or a restart) has no recent changes in memory: they come from the log.
    with TestClient(create_app(settings, clock=clock)) as client, client.websocket_connect(
        "/ws/sites/nerima?since=0"
    ) as ws:
        messages = [ws.receive_json() for _ in range(3)]
    assert [(m["type"], m["seq"]) for m in messages] == [
        ("snapshot", 2), ("issued", 1), ("counter_opened", 2)
    ]
    assert messages[1]["display_number"] == "A001"


def test_too_far_behind_or_ahead_gets_only_a_snapshot(client: TestClient) -> None:
    call_one(client)
    with client.websocket_connect("/ws/sites/nerima?since=99") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_lagging_socket_gets_the_latest_snapshot_not_the_backlog(client: TestClient) -> None:
    runtime = runtime_of(client)
    with client.websocket_connect("/ws/sites/nerima") as ws:
        assert ws.receive_json()["type"] == "snapshot"

        async def burst() -> None:
            # Published in one go, before the socket's writer can run: its queue overflows.
            for n in range(QUEUE_SIZE + 10):
                await runtime.hub.publish(site_channel("nerima"), {"seq": 1000 + n, "type": "x"})

        assert client.portal is not None
        client.portal.call(burst)
        received = ws.receive_json()
    assert received["type"] == "snapshot"


@pytest.mark.parametrize(
    ("frame", "reply"),
    [
        ("not json", "invalid JSON"),
        ('{"type": "subscribe"}', "unknown message"),
        ("[1, 2]", "unknown message"),
    ],
)
def test_bad_client_messages_get_an_error(client: TestClient, frame: str, reply: str) -> None:
    with client.websocket_connect("/ws/sites/nerima") as ws:
        ws.receive_json()
        ws.send_text(frame)
        answer = ws.receive_json()
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}  # still served
    assert answer["type"] == "error"
    assert reply in answer["detail"]


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (lambda ws: ws.send_bytes(b"\x00"), 1003),
        (lambda ws: ws.send_text("x" * 5000), 1009),
        (lambda ws: [ws.send_text("junk") for _ in range(6)], 1008),
    ],
)
def test_abusive_clients_are_closed(client: TestClient, send: Any, code: int) -> None:
    with client.websocket_connect("/ws/sites/nerima") as ws:
        ws.receive_json()
        send(ws)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
    assert closed.value.code == code


@pytest.mark.parametrize(
    ("path", "code"),
    [("/ws/sites/atlantis", 4404), ("/ws/tickets/no-such-token", 4404),
     ("/ws/sites/nerima?since=-1", 1008), ("/ws/tickets/" + "x" * 100, 4404)],
)
def test_unknown_targets_are_closed(client: TestClient, path: str, code: int) -> None:
    with client.websocket_connect(path) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == code
