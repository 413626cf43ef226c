"""The public overview, site page and phone ticket page in chromium: live, accessible, readable
on a phone; the cancel flow with its confirmation step."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.browser import (
    PHONE,
    LiveServer,
    add_token,
    assert_accessible,
    issue_ticket,
    open_page,
    screenshot,
)


def test_overview_and_site_page_update_live(live_server: LiveServer, browser: Any) -> None:
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    with open_page(browser, PHONE) as phone:
        phone.goto(f"{live_server.url}/")
        row = "[data-site=nerima] tr[data-service=moving] [data-waiting]"
        phone.wait_for_selector(f"{row}:text('0 人')")
        phone.wait_for_function("!document.body.classList.contains('is-offline')")
        issue_ticket(live_server, kiosk)
        phone.wait_for_selector(f"{row}:text('1 人')", timeout=2000)
        screenshot(phone, "public-index-phone-ja")
        assert_accessible(phone, "/")
        phone.goto(f"{live_server.url}/sites/nerima?lang=en")
        assert phone.inner_text("tr[data-service=moving] [data-waiting]") == "1 person"
        assert phone.inner_text("tr[data-service=seal] [data-waiting]") == "0 people"
        phone.wait_for_function("!document.body.classList.contains('is-offline')")
        issue_ticket(live_server, kiosk)
        issue_ticket(live_server, kiosk, "seal")
        phone.wait_for_selector(
            "tr[data-service=moving] [data-waiting]:text('2 people')", timeout=2000
        )
        # Redrawn by the script from the live status: the singular form too.
        phone.wait_for_selector(
            "tr[data-service=seal] [data-waiting]:text-is('1 person')", timeout=2000
        )
        screenshot(phone, "public-site-phone-en")
        assert_accessible(phone, "/sites/nerima")
    with open_page(browser, {"width": 1280, "height": 900}) as desk:
        desk.goto(f"{live_server.url}/")
        screenshot(desk, "public-index-desktop-ja")


def test_phone_page_cancels_after_confirmation(live_server: LiveServer, browser: Any) -> None:
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    issue_ticket(live_server, kiosk)
    ticket = issue_ticket(live_server, kiosk)
    with open_page(browser, PHONE, lang="en") as phone:
        phone.goto(f"{live_server.url}/t/{ticket['token']}?lang=en")
        phone.wait_for_selector("[data-ahead]:text('1')")
        screenshot(phone, "live-phone-waiting-en")
        assert_accessible(phone, "/t/{token} (en)")
        phone.get_by_role("link", name="Cancel this ticket").click()
        screenshot(phone, "live-phone-cancel-confirm-en")
        assert_accessible(phone, "/t/{token}/cancel")
        phone.get_by_role("button", name="Yes, cancel it").click()
        phone.wait_for_selector(".ticket.status-cancelled")
        assert "no longer in the queue" in phone.inner_text("[data-alert]")


def test_phone_page_follows_a_route_to_its_end(live_server: LiveServer, browser: Any) -> None:
    token = add_token(live_server.database_url, "staff", "nerima")
    staff = {"Authorization": f"Bearer {token}"}
    ticket = issue_ticket(live_server, token, route=["moving", "nhi"])

    def act(counter: str, *actions: str) -> None:
        for action in actions:
            url = f"{live_server.url}/api/v1/counters/{counter}/{action}"
            httpx.post(url, headers=staff).raise_for_status()

    with open_page(browser, PHONE) as phone:
        phone.goto(f"{live_server.url}/t/{ticket['token']}")
        assert phone.inner_text(".step-now .step-name").startswith("住民異動")
        # No counter is open yet: when the route ends is unknown until both services open.
        assert phone.locator("[data-route-end]").is_hidden()
        act("nerima-1", "open")
        act("nerima-5", "open")
        phone.wait_for_selector("[data-route-end]:visible")
        assert re.fullmatch(r"すべての手続きが終わる目安：\d\d:\d[05]ごろ",
                            phone.inner_text("[data-route-end]"))
        act("nerima-1", "call-next", "start", "complete")  # on to 国民健康保険's line
        phone.wait_for_selector(".step-now .step-name:text('国民健康保険')")
        assert phone.inner_text(".step-done .step-name").startswith("住民異動")
        screenshot(phone, "live-phone-route-ja")
        assert_accessible(phone, "/t/{token} (route, second step)")
        assert "ごろ" in phone.inner_text("[data-route-end]")  # the last step still says it
        act("nerima-5", "call-next", "start", "complete")
        phone.wait_for_selector(".ticket.status-done")
        assert phone.locator(".route-steps .step-done").count() == 2
        assert phone.locator("[data-route-end]").is_hidden()


def test_phone_page_works_without_javascript(live_server: LiveServer, browser: Any) -> None:
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    ticket = issue_ticket(live_server, kiosk)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/t/{ticket['token']}")
        assert page.inner_text("[data-number]") == ticket["display_number"]
        page.get_by_role("link", name="受付を取り消す").click()
        page.get_by_role("button", name="はい、取り消します").click()
        page.wait_for_selector(".ticket.status-cancelled")
    finally:
        context.close()
