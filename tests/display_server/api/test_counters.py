"""Counter actions through the API: call order, recall, no-show, transfer, routes, roles."""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi.testclient import TestClient

from display_server.app import housekeeping
from tests.conftest import JST, FakeClock
from tests.helpers import counter_action, issue, make_token, runtime_of


def open_counter(client: TestClient, staff: dict[str, str], counter: str) -> None:
    assert counter_action(client, staff, counter, "open").status_code == 200


def called_number(client: TestClient, staff: dict[str, str], counter: str) -> str:
    response = counter_action(client, staff, counter, "call-next")
    assert response.status_code == 200, response.text
    return str(response.json()["ticket"]["display_number"])


def test_call_order_priority_then_oldest_across_the_profile(
    client: TestClient, clock: FakeClock
) -> None:
    staff = make_token(client, "staff", "nerima")
    issue(client, staff, service="moving")  # A001
    clock.advance(minutes=1)
    issue(client, staff, service="nhi")  # F001
    clock.advance(minutes=1)
    issue(client, staff, service="child", priority=True)  # G001
    clock.advance(minutes=1)
    issue(client, staff, service="tax")  # E001: not in nerima-1's profile
    open_counter(client, staff, "nerima-1")  # moving, nhi, child
    order = []
    for _ in range(3):
        order.append(called_number(client, staff, "nerima-1"))
        assert counter_action(client, staff, "nerima-1", "complete").status_code == 200
    assert order == ["G001", "A001", "F001"]
    response = counter_action(client, staff, "nerima-1", "call-next")
    assert response.status_code == 409 and "no ticket is waiting" in response.json()["detail"]


def test_strict_order_counter(client: TestClient, clock: FakeClock) -> None:
    staff = make_token(client, "staff", "nerima")
    issue(client, staff, service="moving")
    clock.advance(minutes=5)
    issue(client, staff, service="nhi")
    open_counter(client, staff, "nerima-5")  # strict: nhi, child, moving
    assert called_number(client, staff, "nerima-5") == "F001"


def test_closed_or_busy_counter_cannot_call(client: TestClient) -> None:
    staff = make_token(client, "staff", "nerima")
    issue(client, staff)
    issue(client, staff)
    assert counter_action(client, staff, "nerima-1", "call-next").status_code == 409
    open_counter(client, staff, "nerima-1")
    called_number(client, staff, "nerima-1")
    busy = counter_action(client, staff, "nerima-1", "call-next")
    assert busy.status_code == 409 and "still at this counter" in busy.json()["detail"]
    assert counter_action(client, staff, "nerima-1", "close").status_code == 409
    assert counter_action(client, staff, "nerima-1", "pause").status_code == 200
    assert counter_action(client, staff, "nerima-1", "pause").status_code == 409


def test_no_show_after_recalls_then_requeue_keeps_the_place(
    client: TestClient, clock: FakeClock
) -> None:
    staff = make_token(client, "staff", "nerima")
    floor = make_token(client, "floor", "nerima")
    first = issue(client, staff)
    clock.advance(minutes=1)
    second = issue(client, staff)
    open_counter(client, staff, "nerima-1")
    called_number(client, staff, "nerima-1")
    assert counter_action(client, staff, "nerima-1", "no-show").status_code == 409
    for expected in (1, 2):
        recalled = counter_action(client, staff, "nerima-1", "recall")
        assert recalled.json()["ticket"]["recalls"] == expected
    missed = counter_action(client, staff, "nerima-1", "no-show")
    assert missed.status_code == 200 and missed.json()["acted_on"]["status"] == "no_show"
    clock.advance(minutes=10)
    back = client.post(f"/api/v1/tickets/by-id/{first['id']}/requeue", headers=floor)
    assert back.status_code == 200 and back.json()["status"] == "waiting"
    assert back.json()["ahead"] == 0
    assert client.get(f"/api/v1/tickets/{second['token']}").json()["ahead"] == 1


def test_transfer_keeps_the_place_in_the_new_line(client: TestClient, clock: FakeClock) -> None:
    staff = make_token(client, "staff", "nerima")
    early = issue(client, staff, service="moving")
    clock.advance(minutes=5)
    later = issue(client, staff, service="nhi")
    open_counter(client, staff, "nerima-2")  # moving, certificates
    called_number(client, staff, "nerima-2")
    bad = client.post("/api/v1/counters/nerima-2/transfer", json={"service": "nope"}, headers=staff)
    assert bad.status_code == 404 and "unknown service" in bad.json()["detail"]
    moved = client.post(
        "/api/v1/counters/nerima-2/transfer", json={"service": "nhi"}, headers=staff
    )
    assert moved.status_code == 200 and moved.json()["ticket"] is None
    assert client.get(f"/api/v1/tickets/{early['token']}").json()["ahead"] == 0
    assert client.get(f"/api/v1/tickets/{later['token']}").json()["ahead"] == 1
    again = client.post(
        "/api/v1/counters/nerima-2/transfer", json={"service": "tax"}, headers=staff
    )
    assert again.status_code == 409 and "no called ticket" in again.json()["detail"]


def test_route_moves_through_services_to_done(client: TestClient, clock: FakeClock) -> None:
    staff = make_token(client, "staff", "nerima")
    ticket = issue(client, staff, service="moving", route=["moving", "nhi", "child"])
    for counter in ("nerima-1", "nerima-5"):
        open_counter(client, staff, counter)
    seen = []
    for counter in ("nerima-1", "nerima-5", "nerima-5"):
        response = counter_action(client, staff, counter, "call-next")
        assert response.status_code == 200, response.text
        seen.append(response.json()["ticket"]["service"])
        clock.advance(minutes=3)
        counter_action(client, staff, counter, "start")
        clock.advance(minutes=5)
        counter_action(client, staff, counter, "complete")
    assert seen == ["moving", "nhi", "child"]
    final = client.get(f"/api/v1/tickets/{ticket['token']}").json()
    assert final["status"] == "done" and final["route_index"] == 2


def test_roles_on_counters(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    other_site = make_token(client, "staff", "shakujii")
    for headers, status in (({}, 401), (kiosk, 403), (other_site, 403)):
        assert counter_action(client, headers, "nerima-1", "open").status_code == status
    admin = make_token(client, "admin")
    assert counter_action(client, admin, "nerima-1", "open").status_code == 200
    assert counter_action(client, admin, "nowhere-1", "open").status_code == 404
    assert client.post("/api/v1/counters/nerima-1/explode", headers=admin).status_code == 422


def test_closing_time_serves_the_line_then_closes_counters_and_expires_the_rest(
    client: TestClient, clock: FakeClock
) -> None:
    staff = make_token(client, "staff", "nerima")
    waiting = issue(client, staff)  # moving, at 10:00
    orphan = issue(client, staff, service="tax")  # no counter for tax will be open
    for counter in ("nerima-1", "nerima-4"):
        open_counter(client, staff, counter)
    runtime = runtime_of(client)

    def ticket_status(ticket: dict[str, object]) -> str:
        return str(client.get(f"/api/v1/tickets/{ticket['token']}").json()["status"])

    def counter_states() -> dict[str, str]:
        counters = client.get("/api/v1/sites/nerima/status").json()["counters"]
        return {c["id"]: c["state"] for c in counters}

    clock.set(dt.datetime(2026, 12, 1, 17, 0, tzinfo=JST))
    asyncio.run(housekeeping(runtime))
    # The moving visitor took a ticket before the cut-off: counter 1 stays to serve them.
    # Counter 4 (マイナンバー) has nobody left, and nobody working can serve tax.
    assert ticket_status(waiting) == "waiting" and ticket_status(orphan) == "expired"
    assert counter_states()["nerima-1"] == "open" and counter_states()["nerima-4"] == "closed"
    clock.set(dt.datetime(2026, 12, 1, 17, 20, tzinfo=JST))
    for action in ("call-next", "start", "complete"):
        assert counter_action(client, staff, "nerima-1", action).status_code == 200
    assert ticket_status(waiting) == "done"
    asyncio.run(housekeeping(runtime))
    assert set(counter_states().values()) == {"closed"}
    clock.set(dt.datetime(2026, 12, 2, 9, 0, tzinfo=JST))
    assert issue(client, staff)["display_number"] == "A001"


def test_tickets_and_counters_of_an_earlier_day_are_wound_down(
    client: TestClient, clock: FakeClock
) -> None:
    staff = make_token(client, "staff", "nerima")
    waiting = issue(client, staff)
    open_counter(client, staff, "nerima-1")
    # The server was down at closing time. The next morning a counter is opened again before
    # housekeeping runs: yesterday's ticket expires, yesterday's counter closes, today's stays.
    clock.set(dt.datetime(2026, 12, 2, 8, 20, tzinfo=JST))
    open_counter(client, staff, "nerima-2")
    asyncio.run(housekeeping(runtime_of(client)))
    assert client.get(f"/api/v1/tickets/{waiting['token']}").json()["status"] == "expired"
    counters = client.get("/api/v1/sites/nerima/status").json()["counters"]
    states = {c["id"]: c["state"] for c in counters}
    assert states["nerima-1"] == "closed" and states["nerima-2"] == "open"


def test_ticket_ids_out_of_range_are_422(client: TestClient) -> None:
    floor = make_token(client, "floor", "nerima")
    for ticket_id in ("0", "99999999999999999999", "abc"):
        response = client.post(f"/api/v1/tickets/by-id/{ticket_id}/cancel", headers=floor)
        assert response.status_code == 422, response.text
    assert client.post("/api/v1/tickets/by-id/12345/cancel", headers=floor).status_code == 404
