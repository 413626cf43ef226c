"""The floor manager's tablet page in chromium: a live alert, a transfer, a re-queue, the FAQ."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from display_server.store.db import make_engine, make_sessionmaker
from display_server.store.models import DeviceStatusRow
from tests.e2e.browser import (
    CLOCK_START,
    LiveServer,
    add_token,
    add_user,
    assert_accessible,
    login,
    screenshot,
)

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def _setup(server: LiveServer) -> dict[str, Any]:
    """Three tickets at nerima; the first called, recalled twice and marked a no-show."""
    add_user(server.database_url, "sato", "floor", "nerima")
    kiosk = {"Authorization": f"Bearer {add_token(server.database_url, 'kiosk', 'nerima')}"}
    staff = {"Authorization": f"Bearer {add_token(server.database_url, 'staff', 'nerima')}"}
    tickets = [
        httpx.post(
            f"{server.url}/api/v1/sites/nerima/tickets", json={"service": service}, headers=kiosk
        ).json()
        for service in ("moving", "moving", "certificates")
    ]
    for action in ("open", "call-next", "recall", "recall", "no-show"):
        response = httpx.post(f"{server.url}/api/v1/counters/nerima-1/{action}", headers=staff)
        assert response.status_code == 200, response.text
    return {"tickets": tickets}


def _report_paper_out(server: LiveServer) -> None:
    with make_sessionmaker(make_engine(server.database_url))() as session:
        session.add(
            DeviceStatusRow(
                device="kiosk-nerima-1/printer",
                site="nerima",
                kind="printer",
                state="paper_out",
                detail="",
                updated_at=dt.datetime.fromisoformat(CLOCK_START),
            )
        )
        session.commit()


def _status(server: LiveServer, ticket: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{server.url}/api/v1/tickets/{ticket['token']}").json()
    return result


def test_floor_alert_transfer_and_requeue(live_server: LiveServer, page: Any) -> None:
    first, second, _third = _setup(live_server)["tickets"]
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.set_viewport_size(TABLET)
    login(page, live_server, "sato", "/floor/nerima")
    assert page.locator("#board tr[data-number='A001'] button", has_text="再受付").count() == 1
    assert_accessible(page, "/floor/nerima")

    _report_paper_out(live_server)  # the printer runs out while the page is open …
    kiosk = {"Authorization": f"Bearer {add_token(live_server.database_url, 'kiosk', 'nerima')}"}
    httpx.post(
        f"{live_server.url}/api/v1/sites/nerima/tickets", json={"service": "seal"}, headers=kiosk
    )  # … and the next ticket's event makes the board reload at once
    page.wait_for_selector("#board tr[data-number='C001']", timeout=5_000)
    assert "用紙切れ" in page.inner_text(".alert-list")
    assert any(url.endswith("/ws/sites/nerima") for url in sockets), sockets
    screenshot(page, "floor-tablet-ja")

    row = page.locator("#board tr[data-number='A002']")
    row.locator("select").select_option("certificates")
    row.get_by_role("button", name="A002を転送する").click()
    page.wait_for_selector("text=A002を転送しました。")
    assert _status(live_server, second)["service"] == "certificates"

    page.locator("#board tr[data-number='A001']").get_by_role(
        "button", name="A001を再受付する"
    ).click()
    page.wait_for_selector("text=A001を再受付しました。")
    assert _status(live_server, first)["status"] == "waiting"
    assert_accessible(page, "/floor/nerima after actions")

    page.set_viewport_size(PHONE)
    screenshot(page, "floor-phone-ja")


def test_floor_faq_search_finds_by_reading(live_server: LiveServer, page: Any) -> None:
    add_user(live_server.database_url, "sato", "floor", "nerima")
    page.set_viewport_size(TABLET)
    login(page, live_server, "sato", "/floor/nerima")
    page.fill("#faq-q", "てんにゅう")
    page.press("#faq-q", "Enter")
    page.wait_for_url("**/faq?q=*")
    titles = page.locator(".faq-entry h3").all_inner_texts()
    assert any("転入届に必要なもの" in t for t in titles), titles
    assert not any("印鑑登録に必要なもの" in t for t in titles)
    screenshot(page, "faq-search-ja")
    assert_accessible(page, "/faq?q=てんにゅう")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/faq?q=テンニュウ&lang=en")
    assert "Moving in: what to bring" in page.inner_text("main")
    screenshot(page, "faq-search-phone-en")
    assert_accessible(page, "/faq?lang=en")


def test_faq_editor_saves_and_keeps_history(live_server: LiveServer, page: Any) -> None:
    add_user(live_server.database_url, "suzuki", "admin")
    page.set_viewport_size(TABLET)
    login(page, live_server, "suzuki", "/faq/admin")
    assert_accessible(page, "/faq/admin")
    page.get_by_role("link", name="【例】転入届に必要なもの").click()
    page.fill("#f-ja-title", "【例】転入届に必要なもの（改訂）")
    page.get_by_role("button", name="保存する").click()
    page.wait_for_selector("text=保存しました。")
    history = page.locator("#history-h + table tbody tr").all_inner_texts()
    assert [row.split("\t")[1:3] for row in history] == [["suzuki", "更新"], ["seed", "作成"]]
    screenshot(page, "faq-editor-ja")
    assert_accessible(page, "/faq/admin/{id}")
