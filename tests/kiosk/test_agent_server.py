"""The print agent against the real server app (TestClient) and a virtual printer over TCP."""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kiosk import KioskAgent, ReprintStore
from kiosk.app import create_kiosk_app
from kiosk.page import catalog
from printers import VirtualPrinter, open_printer
from tests.helpers import counter_action, make_token


def kiosk_for(
    client: TestClient, uri: str, reprints: ReprintStore
) -> tuple[KioskAgent, TestClient]:
    if "Authorization" not in client.headers:  # a restarted kiosk keeps its token
        client.headers.update(make_token(client, "kiosk", "nerima"))
    agent = KioskAgent(client, open_printer(uri), reprints=reprints, site="nerima",
                       device="kiosk-lobby-1")
    return agent, TestClient(create_kiosk_app(agent, monitor_s=0))


def devices(client: TestClient) -> dict[str, dict[str, Any]]:
    floor = make_token(client, "floor", "nerima")
    listed = client.get("/api/v1/sites/nerima/devices", headers=floor).json()["devices"]
    return {d["device"]: d for d in listed}


def test_a_tap_issues_once_and_prints_site_service_number_and_qr(
    client: TestClient, printer: VirtualPrinter, reprints: ReprintStore
) -> None:
    _, local = kiosk_for(client, printer.uri, reprints)
    with local:
        answer = local.post("/issue", json={"service": "moving", "key": "tap-0000001"})
        again = local.post("/issue", json={"service": "moving", "key": "tap-0000001"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["printed"] is True
    assert again.json()["ticket"]["id"] == body["ticket"]["id"]  # the retried tap: same ticket
    ticket = client.get(body["ticket"]["status_url"].split("/t/")[0] + "/api/v1/tickets/"
                        + body["ticket"]["status_url"].rsplit("/", 1)[1]).json()
    assert ticket["status"] == "waiting"
    slip = printer.slips[0]
    text = "\n".join(slip.text_lines)
    assert "練馬区民事務所" in text
    assert "住民異動" in text
    assert ticket["display_number"] in text
    assert slip.qr_payloads == [ticket["status_url"]]
    assert len(printer.slips) == 2  # the repeated tap prints its slip again, never a new ticket


def test_a_route_s_slip_and_screen_say_when_all_of_it_should_be_done(
    client: TestClient, printer: VirtualPrinter, reprints: ReprintStore
) -> None:
    _, local = kiosk_for(client, printer.uri, reprints)
    route = {"service": "moving", "route": ["moving", "nhi"]}
    with local:
        unknown = local.post("/issue", json={**route, "key": "tap-0000002"}).json()
        staff = make_token(client, "staff", "nerima")
        for counter in ("nerima-1", "nerima-5"):
            counter_action(client, staff, counter, "open")
        known = local.post("/issue", json={**route, "key": "tap-0000003"}).json()
    # No counter was open for the first: its end is unknown, and neither says a time.
    assert unknown["route_end"] is None
    first, second = ("\n".join(slip.text_lines) for slip in printer.slips)
    assert "手続きの順番" in first and "終わる目安" not in first
    done_at = known["ticket"]["est_route_done_at"]
    assert done_at.endswith("+09:00")  # the office's offset: the kiosk shows its wall clock
    at = dt.datetime.fromisoformat(done_at).strftime("%H:%M")
    assert known["route_end"] == f"すべての手続きが終わる目安：{at}ごろ"
    assert f"全手続き終了の目安 {at}ごろ" in second.splitlines() and "手続きの順番" in second


def test_paper_out_keeps_the_ticket_and_tells_staff(
    client: TestClient, printer: VirtualPrinter, reprints: ReprintStore
) -> None:
    printer.state = "paper_out"
    agent, local = kiosk_for(client, printer.uri, reprints)
    with local:
        body = local.post("/issue", json={"service": "certificates", "key": "tap-0000002",
                                          "lang": "en"}).json()
    assert body["printed"] is False and body["printer_state"] == "paper_out"
    assert body["message"] == catalog().gettext("en", "kiosk.ticket.print_failed")
    token = body["ticket"]["status_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/tickets/{token}").json()["status"] == "waiting"
    assert devices(client)["kiosk-lobby-1-printer"]["state"] == "paper_out"
    assert printer.slips == []

    printer.state = "ok"
    agent.check_printer()
    assert [s.qr_payloads for s in printer.slips] == [[body["ticket"]["status_url"]]]
    assert devices(client)["kiosk-lobby-1-printer"]["state"] == "ok"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_printer_costs_bounded_time_and_no_ticket(
    client: TestClient, reprints: ReprintStore
) -> None:
    _, local = kiosk_for(client, f"tcp://127.0.0.1:{closed_port()}?connect_timeout=1", reprints)
    started = time.monotonic()
    with local:
        body = local.post("/issue", json={"service": "seal", "key": "tap-0000003"}).json()
    assert time.monotonic() - started < 5
    assert body["printed"] is False and body["printer_state"] == "offline"
    token = body["ticket"]["status_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/tickets/{token}").json()["status"] == "waiting"
    assert devices(client)["kiosk-lobby-1-printer"]["state"] == "offline"


def test_a_silent_printer_prints_unverified_within_bounded_time(
    client: TestClient, printer: VirtualPrinter, reprints: ReprintStore
) -> None:
    printer.state = "silent"
    _, local = kiosk_for(client, f"{printer.uri}?status_timeout=0.3", reprints)
    started = time.monotonic()
    with local:
        body = local.post("/issue", json={"service": "seal", "key": "tap-0000004"}).json()
    assert time.monotonic() - started < 3
    assert body["printed"] is True and body["printer_state"] == "unknown"
    reported = devices(client)["kiosk-lobby-1-printer"]
    assert reported["state"] == "unknown" and "not verified" in reported["detail"]


def test_a_closed_office_is_shown_with_its_next_opening(
    client: TestClient, printer: VirtualPrinter, reprints: ReprintStore, clock: Any
) -> None:
    clock.advance(hours=8)  # 18:00, after closing
    _, local = kiosk_for(client, printer.uri, reprints)
    with local:
        status = local.get("/status").json()
        answer = local.post("/issue", json={"service": "moving", "key": "tap-0000005"})
    assert status["status"]["accepting"] is False
    assert answer.status_code == 409
    assert answer.json()["reason"] == "after_cutoff"
    assert answer.json()["next_opening"].startswith("2026-12-02T08:30")
    assert printer.slips == []


def issue_without_paper(local: TestClient, service: str, key: str) -> dict[str, Any]:
    body = local.post("/issue", json={"service": service, "key": key}).json()
    assert body["printed"] is False and body["printer_state"] == "paper_out"
    ticket: dict[str, Any] = body["ticket"]
    return ticket


def two_slips_without_paper(
    client: TestClient, printer: VirtualPrinter, state_dir: Path, services: tuple[str, str],
    *, dismiss_first: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two tickets issued while the printer has no paper, then the kiosk stops; with
    `dismiss_first` the visitor of the first left with the number on screen (page button)."""
    printer.state = "paper_out"
    with ReprintStore(state_dir) as reprints:
        _, local = kiosk_for(client, printer.uri, reprints)
        with local:
            first = issue_without_paper(local, services[0], f"tap-{services[0]}-1")
            second = issue_without_paper(local, services[1], f"tap-{services[1]}-2")
            if dismiss_first:
                answer = local.post("/dismiss", json={"ticket_id": first["id"]}).json()
                assert answer == {"dismissed": True}
    return first, second


def test_slips_waiting_for_paper_are_printed_once_after_a_restart(
    client: TestClient, printer: VirtualPrinter, state_dir: Path
) -> None:
    first, second = two_slips_without_paper(client, printer, state_dir, ("moving", "seal"))

    with ReprintStore(state_dir) as reprints:  # the kiosk restarted; the paper is still out
        agent, _ = kiosk_for(client, printer.uri, reprints)
        assert agent.check_printer() == "paper_out"
        assert agent.queue()["pending"] == [first["id"], second["id"]]
        assert printer.slips == []

        printer.state = "ok"
        agent.check_printer()
        agent.check_printer()
        assert [s.qr_payloads for s in printer.slips] == [
            [first["status_url"]], [second["status_url"]]
        ]
        assert agent.queue() == {"pending": [], "reprinted": [first["id"], second["id"]]}

    with ReprintStore(state_dir) as reprints:
        assert reprints.ticket_ids() == []


def test_a_dismissed_slip_stays_dismissed_after_a_restart(
    client: TestClient, printer: VirtualPrinter, state_dir: Path
) -> None:
    _, waiting = two_slips_without_paper(
        client, printer, state_dir, ("moving", "moving"), dismiss_first=True
    )

    with ReprintStore(state_dir) as reprints:
        agent, _ = kiosk_for(client, printer.uri, reprints)
        printer.state = "ok"
        agent.check_printer()
    assert [s.qr_payloads for s in printer.slips] == [[waiting["status_url"]]]


def test_an_unreadable_reprint_file_is_kept_and_staff_are_told(
    client: TestClient, printer: VirtualPrinter, state_dir: Path
) -> None:
    state_dir.mkdir()
    (state_dir / "reprints.sqlite3").write_bytes(b"not a database " * 100)
    with ReprintStore(state_dir) as reprints:
        agent, _ = kiosk_for(client, printer.uri, reprints)
        agent.check_printer()
    kiosk = devices(client)["kiosk-lobby-1"]
    (kept,) = state_dir.glob("reprints.sqlite3.corrupt-*")
    assert kiosk["state"] == "error"
    assert "unreadable" in kiosk["detail"] and str(kept) in kiosk["detail"]
    assert devices(client)["kiosk-lobby-1-printer"]["state"] == "ok"
