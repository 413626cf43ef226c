"""Live status in chromium: a call at the console reaches the lobby display and the phone within
a second; the display survives a server restart; the pages pass axe at phone and TV sizes."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.browser import (
    PHONE,
    TV_FULL_HD,
    TV_HD,
    LiveServer,
    add_token,
    add_user,
    assert_accessible,
    issue_ticket,
    login,
    open_page,
    screenshot,
)


def test_a_call_reaches_the_display_and_the_phone_within_a_second(
    live_server: LiveServer, browser: Any
) -> None:
    add_user(live_server.database_url, "tanaka", "staff", "nerima")
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    # A route, so that axe also checks its list of steps on the phone, near and called.
    ticket = issue_ticket(live_server, kiosk, route=["moving", "nhi"])
    number = ticket["display_number"]
    with (
        open_page(browser, TV_FULL_HD) as tv,
        open_page(browser, PHONE) as phone,
        open_page(browser, {"width": 1280, "height": 900}) as console,
    ):
        tv.goto(f"{live_server.url}/display/nerima")
        phone.goto(f"{live_server.url}/t/{ticket['token']}")
        login(console, live_server, "tanaka", "/counter/nerima-1")
        console.get_by_role("button", name="受付開始").click()
        for live in (tv, phone):
            live.wait_for_function("!document.body.classList.contains('is-offline')")
        phone.wait_for_selector(".ticket.near")  # nobody ahead: the turn is near
        screenshot(phone, "live-phone-near-ja")
        assert_accessible(phone, "/t/{token} (near)")

        started = time.monotonic()
        console.keyboard.press("n")
        tv.wait_for_function(
            "n => document.querySelector('.tv-calls li.latest .num')?.textContent === n",
            arg=number,
            timeout=1000,
        )
        phone.wait_for_selector(".ticket.status-called", timeout=1000)
        assert time.monotonic() - started < 1.0
        assert "1番窓口" in phone.inner_text("[data-alert]")
        assert tv.is_visible("[data-flash]")
        screenshot(tv, "live-display-1920-flash")
        tv.evaluate("document.querySelector('[data-flash]').hidden = true")
        screenshot(tv, "live-display-1920")
        assert_accessible(tv, "/display/nerima")
        screenshot(phone, "live-phone-called-ja")
        assert_accessible(phone, "/t/{token} (called)")
        console.wait_for_selector(".big-number")
        assert_accessible(console, "/counter/nerima-1")


def test_the_counter_console_follows_changes_made_elsewhere(
    live_server: LiveServer, page: Any
) -> None:
    add_user(live_server.database_url, "tanaka", "staff", "nerima")
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    login(page, live_server, "tanaka", "/counter/nerima-1")
    page.get_by_role("button", name="受付開始").click()
    page.wait_for_selector("tr[data-service=moving] [data-waiting]:text('0 人')")
    wait = "tr[data-service=moving] [data-wait]"
    assert page.inner_text(wait) == "待ち時間なし"
    issue_ticket(live_server, kiosk)
    page.wait_for_selector("tr[data-service=moving] [data-waiting]:text('1 人')", timeout=2000)
    page.wait_for_selector(f"{wait}:text-matches('^約 [0-9]+〜[1-9][0-9]* 分$')", timeout=2000)
    staff = add_token(live_server.database_url, "staff", "nerima")
    httpx.post(
        f"{live_server.url}/api/v1/counters/nerima-1/call-next",
        headers={"Authorization": f"Bearer {staff}"},
    ).raise_for_status()
    page.wait_for_selector("[data-current] .big-number", timeout=2000)
    assert page.is_enabled("button[value=complete]")
    assert page.is_disabled("button[value=call-next]")
    for action in ("start", "complete"):
        httpx.post(
            f"{live_server.url}/api/v1/counters/nerima-1/{action}",
            headers={"Authorization": f"Bearer {staff}"},
        ).raise_for_status()
    # Nobody waiting and the counter free again: redrawn by the script (waitText).
    page.wait_for_selector(f"{wait}:text-is('待ち時間なし')", timeout=2000)


def test_the_display_recovers_after_a_server_restart(live_server: LiveServer, browser: Any) -> None:
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    staff = add_token(live_server.database_url, "staff", "nerima")
    with open_page(browser, TV_HD) as tv:
        tv.goto(f"{live_server.url}/display/nerima")
        tv.wait_for_function("!document.body.classList.contains('is-offline')")
        live_server.stop()
        tv.wait_for_selector("[data-offline]", state="visible", timeout=5000)
        screenshot(tv, "live-display-1280-offline")
        live_server.start()
        tv.wait_for_selector("[data-offline]", state="hidden", timeout=20000)
        ticket = issue_ticket(live_server, kiosk)
        headers = {"Authorization": f"Bearer {staff}"}
        httpx.post(f"{live_server.url}/api/v1/counters/nerima-1/open", headers=headers)
        httpx.post(f"{live_server.url}/api/v1/counters/nerima-1/call-next", headers=headers)
        tv.wait_for_function(
            "n => document.querySelector('.tv-calls li.latest .num')?.textContent === n",
            arg=ticket["display_number"],
            timeout=3000,
        )
        tv.evaluate("document.querySelector('[data-flash]').hidden = true")
        screenshot(tv, "live-display-1280")
        assert_accessible(tv, "/display/nerima (1280x720)")
