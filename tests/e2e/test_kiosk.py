"""The kiosk in chromium: a real server, the kiosk's local app and a virtual printer over TCP."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from display_server.store.db import upgrade
from kiosk import KioskAgent, ReprintStore
from kiosk.app import create_kiosk_app
from kiosk.page import catalog
from printers import VirtualPrinter, open_printer
from tests.e2e.browser import (
    LiveServer,
    add_token,
    assert_accessible,
    free_port,
    screenshot,
)
from tests.zbar import decode_qr

SIZES = {"portrait": (1080, 1920), "landscape": (1280, 800)}


class LocalKiosk:
    """The kiosk's local app under uvicorn in a thread, as `madoguchi kiosk` runs it."""

    def __init__(self, server: LiveServer, printer: VirtualPrinter) -> None:
        self.server_url = server.url
        self.database_url = server.database_url
        token = add_token(server.database_url, "kiosk", "nerima")
        self.client = httpx.Client(
            base_url=server.url, timeout=3.0, headers={"Authorization": f"Bearer {token}"}
        )
        self.reprints = ReprintStore(printer.out_dir.parent / "kiosk-state")
        self.agent = KioskAgent(
            self.client,
            open_printer(printer.uri),
            reprints=self.reprints,
            site="nerima",
            device="kiosk-e2e",
        )
        self.port = free_port()
        config = uvicorn.Config(
            create_kiosk_app(self.agent, monitor_s=1.0),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalKiosk:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the kiosk app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.client.close()
        self.reprints.close()


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "slips", dots=384) as virtual:
        yield virtual


@pytest.fixture
def kiosk(live_server: LiveServer, printer: VirtualPrinter) -> Iterator[LocalKiosk]:
    with LocalKiosk(live_server, printer) as local:
        yield local


def open_kiosk(page: Any, kiosk: LocalKiosk, lang: str, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{kiosk.url}/?lang={lang}")
    page.wait_for_selector("#services .k-service")


def test_two_taps_give_a_ticket_and_a_printed_slip(
    kiosk: LocalKiosk, printer: VirtualPrinter, page: Any
) -> None:
    open_kiosk(page, kiosk, "ja", "portrait")
    screenshot(page, "kiosk-start-portrait-ja")
    assert_accessible(page, "kiosk start (ja)")
    page.click("#services [data-service=moving]")
    page.wait_for_selector("#screen-confirm:not([hidden])")
    assert "待ち" in page.inner_text("#confirm-wait") or "すぐ" in page.inner_text("#confirm-wait")
    screenshot(page, "kiosk-confirm-portrait-ja")
    page.click("#confirm-issue")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    number = page.inner_text("#ticket-number")
    assert number.startswith("A")
    assert page.locator("#ticket-qr svg").count() == 1
    screenshot(page, "kiosk-ticket-portrait-ja")
    assert_accessible(page, "kiosk ticket (ja)")

    deadline = time.monotonic() + 10
    while not printer.pngs or not printer.pngs[0].exists():
        assert time.monotonic() < deadline, "no slip was printed"
        time.sleep(0.05)
    status = httpx.get(f"{kiosk.server_url}/api/v1/sites/nerima/status").json()
    assert status["services"][0]["waiting"] == 1
    [payload] = decode_qr(printer.pngs[0])
    assert payload.startswith(f"{kiosk.server_url}/t/")
    assert number in "\n".join(printer.slips[0].text_lines)


def test_english_several_procedures_and_priority(kiosk: LocalKiosk, page: Any) -> None:
    # Someone is already waiting for moving: one person ahead of the first ticket below.
    kiosk.client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"}).raise_for_status()
    open_kiosk(page, kiosk, "en", "landscape")
    screenshot(page, "kiosk-start-landscape-en")
    assert_accessible(page, "kiosk start (en)")
    page.click("#open-several")
    page.click("#several-list [data-service=moving]")
    page.click("#several-list [data-service=nhi]")
    page.click("#several-list [data-service=child]")
    assert page.get_attribute("#several-list [data-service=nhi]", "aria-pressed") == "true"
    screenshot(page, "kiosk-several-landscape-en")
    page.click("#several-next")
    assert page.locator("#confirm-route li").count() == 3
    # A counter open for every step: the ticket screen can say when all of them end.
    staff = {"Authorization": f"Bearer {add_token(kiosk.database_url, 'staff', 'nerima')}"}
    httpx.post(f"{kiosk.server_url}/api/v1/counters/nerima-1/open", headers=staff
               ).raise_for_status()
    page.click("#confirm-issue")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#ticket-service").count("→") == 2
    ahead = page.inner_text("#ticket-wait")
    assert ahead.startswith("1 person ahead of you · ") and "waiting" not in ahead  # said once
    assert re.fullmatch(r"All steps done by about \d\d:\d[05]",
                        page.inner_text("#ticket-route-end"))
    screenshot(page, "kiosk-route-ticket-landscape-en")
    page.click("#ticket-done")  # a new visitor starts in Japanese
    page.wait_for_url(f"{kiosk.url}/?lang=ja")

    open_kiosk(page, kiosk, "en", "portrait")
    page.click("#open-priority")
    screenshot(page, "kiosk-priority-portrait-en")
    assert_accessible(page, "kiosk priority (en)")
    page.click("#priority-continue")
    page.click("#services [data-service=certificates]")
    assert page.is_visible("#confirm-priority")
    page.click("#confirm-issue")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#ticket-wait").startswith("0 people ahead of you")
    screenshot(page, "kiosk-ticket-portrait-en")


def test_paper_out_keeps_the_ticket_on_screen(
    kiosk: LocalKiosk, printer: VirtualPrinter, page: Any
) -> None:
    printer.state = "paper_out"
    open_kiosk(page, kiosk, "ja", "landscape")
    page.click("#services [data-service=certificates]")
    page.click("#confirm-issue")
    page.wait_for_selector("#ticket-alert:not([hidden])")
    screenshot(page, "kiosk-print-failed-landscape-ja")
    assert_accessible(page, "kiosk print failed (ja)")
    printer.state = "ok"  # paper refilled: the agent's monitor reprints and the page says so
    page.wait_for_selector("#ticket-alert", state="hidden", timeout=15000)
    assert "印刷しました" in page.inner_text("#ticket-message")
    assert len(printer.slips) == 1


def test_a_closed_office_is_said_in_its_own_time_zone(
    tmp_path: Path, printer: VirtualPrinter, page: Any
) -> None:
    # An office in Warsaw after its 16:45 cut-off, seen from a browser set to Tokyo (the page
    # fixture's zone), where it is already 00:50 the next day.
    example = Path(__file__).parents[2] / "display_server" / "example_ward.toml"
    config = tmp_path / "warsaw.toml"
    config.write_text(
        example.read_text(encoding="utf-8").replace(
            'timezone = "Asia/Tokyo"', 'timezone = "Europe/Warsaw"'
        ),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'warsaw.db'}"
    upgrade(url)
    server = LiveServer(
        database_url=url,
        env={
            "MADOGUCHI_CONFIG_PATH": str(config),
            "MADOGUCHI_CLOCK_START": "2026-12-01T16:50:00+01:00",
        },
    )
    server.start()
    try:
        with LocalKiosk(server, printer) as kiosk:
            page.goto(f"{kiosk.url}/?lang=ja")
            page.wait_for_selector("#screen-closed:not([hidden])")
            assert page.inner_text("#closed-title") == catalog().gettext(
                "ja", "kiosk.closed.after_cutoff"
            )
            assert "12月2日" in page.inner_text("#closed-next")
            assert "8:30" in page.inner_text("#closed-next")
            screenshot(page, "kiosk-closed-ja")
            assert_accessible(page, "kiosk closed (ja)")
    finally:
        server.stop()
