"""The print agent against a scripted server (httpx.MockTransport) and an in-memory printer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kiosk import (
    IssueRefused,
    KioskAgent,
    ReprintStore,
    RequestRejected,
    Retry,
    ServerUnavailable,
)
from kiosk.app import create_kiosk_app
from kiosk.page import catalog
from printers.connections import DummyConnection
from printers.decode import decode_escpos

OK = {n: b"\x12" for n in (1, 2, 3, 4)}
PAPER_OUT = {1: b"\x1a", 2: b"\x32", 3: b"\x12", 4: b"\x7e"}


def ticket(number: int = 1, key: str = "") -> dict[str, Any]:
    return {
        "id": number, "token": f"tok{number}", "number": number, "display_number": f"A{number:03d}",
        "site": "nerima", "site_name": "練馬区民事務所", "service": "moving",
        "service_name": "住民異動", "issued_at": "2026-12-01T01:00:00+00:00", "ahead": 2,
        "est_wait_min": 5, "est_wait_max": 15, "status_url": f"http://server/t/tok{number}",
        "route": ["moving"], "priority": False,
    }


class FakeServer:
    """Issues one ticket per Idempotency-Key; `script` can drop responses or fail."""

    def __init__(self, script: Callable[[httpx.Request, int], httpx.Response | None] | None = None):
        self.tickets: dict[str, dict[str, Any]] = {}
        self.posts: list[httpx.Request] = []
        self.reports: list[dict[str, Any]] = []
        self.script = script

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.reports.append(json.loads(request.content))
            return httpx.Response(200, json={"changed": True})
        if request.method == "GET":
            return httpx.Response(200, json={"site": "nerima", "accepting": True, "services": []})
        self.posts.append(request)
        if self.script and (scripted := self.script(request, len(self.posts))) is not None:
            return scripted
        key = request.headers["Idempotency-Key"]
        created = key not in self.tickets
        if created:
            self.tickets[key] = ticket(len(self.tickets) + 1)
        return httpx.Response(201 if created else 200, json=self.tickets[key])


def make_agent(
    server: FakeServer,
    reprints: ReprintStore,
    replies: dict[int, bytes] | None = None,
    sleeps: list[float] | None = None,
) -> tuple[KioskAgent, DummyConnection]:
    printer = DummyConnection("dummy://", replies=OK if replies is None else replies)
    client = httpx.Client(base_url="http://server", transport=httpx.MockTransport(server))
    agent = KioskAgent(client, printer, reprints=reprints, site="nerima", device="kiosk-1",
                       sleep=(sleeps.append if sleeps is not None else lambda _: None))
    return agent, printer


def test_a_dropped_response_is_retried_with_the_same_key_and_makes_one_ticket(
    reprints: ReprintStore,
) -> None:
    def drop_first(request: httpx.Request, n: int) -> httpx.Response | None:
        if n == 1:
            server.tickets[request.headers["Idempotency-Key"]] = ticket(1)  # issued, then lost
            raise httpx.ReadError("connection reset", request=request)
        return None

    server = FakeServer(drop_first)
    agent, printer = make_agent(server, reprints)
    issued = agent.issue("moving", key="tap-0001")
    assert len(server.tickets) == 1
    assert [r.headers["Idempotency-Key"] for r in server.posts] == ["tap-0001", "tap-0001"]
    assert issued.printed and issued.ticket["display_number"] == "A001"
    assert "A001" in "\n".join(decode_escpos(printer.output).text_lines)


def test_refused_when_closed_gives_the_reason_and_next_opening(reprints: ReprintStore) -> None:
    body = {"detail": "the office is closed now", "reason": "closed",
            "next_opening": "2026-12-02T08:30:00+09:00"}
    server = FakeServer(lambda request, n: httpx.Response(409, json=body))
    agent, printer = make_agent(server, reprints)
    with pytest.raises(IssueRefused) as caught:
        agent.issue("moving")
    assert caught.value.reason == "closed"
    assert caught.value.next_opening == "2026-12-02T08:30:00+09:00"
    assert len(server.posts) == 1 and printer.output == b""

    with TestClient(create_kiosk_app(agent, monitor_s=0)) as local:
        answer = local.post("/issue", json={"service": "moving", "key": "tap-0002", "lang": "en"})
    assert answer.status_code == 409
    assert answer.json()["reason"] == "closed"
    assert answer.json()["message"] == catalog().gettext("en", "kiosk.closed.closed")
    assert answer.json()["next_opening"] == "2026-12-02T08:30:00+09:00"


def test_server_errors_are_retried_a_bounded_number_of_times(reprints: ReprintStore) -> None:
    sleeps: list[float] = []
    server = FakeServer(lambda request, n: httpx.Response(503, json={"detail": "down"}))
    agent, printer = make_agent(server, reprints, sleeps=sleeps)
    with pytest.raises(ServerUnavailable):
        agent.issue("moving")
    assert len(server.posts) == Retry().attempts
    assert sleeps == Retry().delays() and sum(sleeps) <= 3
    assert len({r.headers["Idempotency-Key"] for r in server.posts}) == 1
    assert printer.output == b""


def test_a_rejected_request_is_not_retried(reprints: ReprintStore) -> None:
    server = FakeServer(lambda request, n: httpx.Response(401, json={"detail": "unknown token"}))
    agent, _ = make_agent(server, reprints)
    with pytest.raises(RequestRejected) as caught:
        agent.issue("moving")
    assert caught.value.status == 401 and len(server.posts) == 1


def test_paper_out_keeps_the_ticket_queues_the_slip_and_alerts_staff(
    reprints: ReprintStore,
) -> None:
    server = FakeServer()
    agent, printer = make_agent(server, reprints, replies=PAPER_OUT)
    with TestClient(create_kiosk_app(agent, monitor_s=0)) as local:
        answer = local.post("/issue", json={"service": "moving", "key": "tap-0003"})
        assert answer.status_code == 201
        body = answer.json()
        assert body["printed"] is False and body["printer_state"] == "paper_out"
        assert body["message"] == catalog().gettext("ja", "kiosk.ticket.print_failed")
        assert body["ticket"]["display_number"] == "A001" and "<svg" in body["qr_svg"]
        assert server.reports[-1]["state"] == "paper_out"
        assert local.get("/status").json()["pending"] == [1]

        printer.replies = OK  # paper refilled: the next check reprints the slip
        assert agent.check_printer() == "ok"
        assert "A001" in "\n".join(decode_escpos(printer.output).text_lines)
        queue = agent.queue()
        assert queue == {"pending": [], "reprinted": [1]}
        assert server.reports[-2]["state"] == "ok"


def test_a_dismissed_slip_is_not_reprinted(reprints: ReprintStore) -> None:
    agent, printer = make_agent(FakeServer(), reprints, replies=PAPER_OUT)
    issued = agent.issue("moving")
    assert agent.dismiss(int(issued.ticket["id"]))
    printer.replies = OK
    printer.output = b""
    agent.check_printer()
    assert decode_escpos(printer.output).text_lines == []


def test_unchanged_states_are_reported_once_until_the_heartbeat(reprints: ReprintStore) -> None:
    server = FakeServer()
    agent, _ = make_agent(server, reprints)
    for _ in range(3):
        agent.check_printer()
    assert [r["kind"] for r in server.reports] == ["printer", "kiosk"]
