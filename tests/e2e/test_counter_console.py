"""The staff counter console in chromium: sign in, open, call, complete; accessible."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.browser import LiveServer, add_token, add_user, assert_accessible, login, screenshot


def test_console_calls_a_ticket(live_server: LiveServer, page: Any) -> None:
    add_user(live_server.database_url, "tanaka", "staff", "nerima")
    kiosk = add_token(live_server.database_url, "kiosk", "nerima")
    issued = httpx.post(
        f"{live_server.url}/api/v1/sites/nerima/tickets",
        json={"service": "moving"},
        headers={"Authorization": f"Bearer {kiosk}"},
    ).json()
    login(page, live_server, "tanaka", "/counter/nerima-1")
    page.get_by_role("button", name="受付開始").click()
    # The form reloads the page: wait for the open counter before pressing the shortcut.
    page.wait_for_selector("button[data-key='n']:not([disabled])")
    page.keyboard.press("n")
    page.wait_for_selector(".big-number")
    assert page.inner_text(".big-number") == issued["display_number"]
    screenshot(page, "counter-console-ja")
    assert_accessible(page, "/counter/nerima-1")
    page.get_by_role("button", name="完了").click()
    page.wait_for_selector("text=呼び出し中の番号はありません")
    status = httpx.get(f"{live_server.url}/api/v1/tickets/{issued['token']}").json()
    assert status["status"] == "done"
