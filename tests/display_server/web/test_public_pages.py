"""Public pages rendered by the server: overview, site, display, phone ticket page, cancel."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.helpers import counter_action, issue, make_token, runtime_of

LOCALES = Path(__file__).parents[3] / "display_server" / "locales"


def test_live_catalogue_is_complete_in_japanese_and_english() -> None:
    keys = {}
    for lang in ("ja", "en"):
        with (LOCALES / lang / "LC_MESSAGES" / "live.po").open("rb") as handle:
            keys[lang] = {str(m.id) for m in read_po(handle) if m.id and m.string}
    assert keys["ja"] == keys["en"]
    assert "display.voice_call" in keys["ja"]


def test_overview_lists_every_site_with_crowding_in_words(client: TestClient) -> None:
    issue(client, make_token(client, "kiosk", "nerima"))
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert "Waiting at the counters" in page
    assert 'href="/sites/nerima"' in page
    assert page.count('class="level level-') >= 7
    assert re.search(r"level-closed\" data-level>Counters closed", page)
    assert "/static/live.js" in page
    # Some of its sites' counters serve several services: said once, under the lead.
    assert page.count("there can be a wait even when no one is waiting") == 1


def test_site_page_has_counters_calls_and_the_forecast_slot(client: TestClient) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    ticket = issue(client, kiosk)
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    page = client.get("/sites/nerima").text
    assert "練馬区民事務所" in page
    assert ticket["display_number"] in page
    assert "1番窓口" in page
    # Its counters serve several services each: the page says why a line of 0 can still wait.
    assert "待ち人数が 0 人でも" in page
    assert client.get("/sites/atlantis").status_code == 404


def live_text(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="live-text">(.*?)</script>', page)
    assert found is not None
    text: dict[str, Any] = json.loads(found.group(1))
    return text


def test_counts_take_their_plural_form_and_scripts_get_the_forms(client: TestClient) -> None:
    issue(client, make_token(client, "kiosk", "nerima"))
    english = client.get("/sites/nerima?lang=en").text
    assert "<td data-waiting>1 person</td>" in english
    assert "<td data-waiting>0 people</td>" in english and "1 people" not in english
    assert live_text(english)["status.people"] == {"one": "{n} person", "other": "{n} people"}
    scripts = re.findall(r'<script src="/static/(\w+)\.js"', english)
    assert scripts == ["messages", "live", "public"]
    japanese = client.get("/sites/nerima?lang=ja").text
    assert "<td data-waiting>1 人</td>" in japanese and "<td data-waiting>0 人</td>" in japanese
    assert live_text(japanese)["status.people"] == {"other": "{n} 人"}


def test_display_is_bilingual_and_carries_the_voice_texts(client: TestClient) -> None:
    page = client.get("/display/nerima").text
    assert "ただいまお呼びしている番号" in page and "Now calling" in page
    found = re.search(r'<script type="application/json" id="display-text">(.*?)</script>', page)
    assert found is not None
    voice = json.loads(found.group(1))["voice"]["display.voice_call"]
    assert "番窓口へお越しください" in voice["ja"] and "please come to counter" in voice["en"]
    assert "/static/chime.wav" in page
    assert 'aria-live="assertive"' in page


def test_ticket_page_works_without_javascript(client: TestClient) -> None:
    ticket = issue(client, make_token(client, "kiosk", "nerima"))
    page = client.get(f"/t/{ticket['token']}").text
    assert ticket["display_number"] in page
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page
    assert "あなたの前の人数" in page and "aria-live" in page
    english = client.get(f"/t/{ticket['token']}?lang=en").text
    assert "People ahead of you" in english and "Cancel this ticket" in english
    assert "This page reloads itself every 30 seconds." in english


def test_ticket_page_says_when_the_turn_is_near_and_when_called(client: TestClient) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    ticket = issue(client, kiosk)
    assert "まもなく順番です" in client.get(f"/t/{ticket['token']}").text
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    page = client.get(f"/t/{ticket['token']}").text
    assert "status-called" in page and "1番窓口へお越しください" in page


def _steps(page: str) -> list[tuple[str, str]]:
    """(state, service name) of each step in the page's route list."""
    return re.findall(r'<li class="step-(\w+)"[^>]*><span class="step-name">([^<]+)</span>', page)


def test_ticket_page_shows_a_route_step_by_step(client: TestClient) -> None:
    staff = make_token(client, "staff", "nerima")
    ticket = issue(client, staff, service="moving", route=["moving", "nhi"])
    single = issue(client, staff, service="tax")
    assert _steps(client.get(f"/t/{single['token']}").text) == []
    page = client.get(f"/t/{ticket['token']}").text
    assert "本日の手続き" in page and 'aria-current="step"' in page
    assert _steps(page) == [("now", "住民異動（転入・転出・転居）"), ("next", "国民健康保険")]
    assert 'data-route-end hidden' in page  # no counter is open: no end to say
    for counter in ("nerima-1", "nerima-5"):
        counter_action(client, staff, counter, "open")
    view = client.get(f"/api/v1/tickets/{ticket['token']}").json()
    assert client.get(f"/api/v1/tickets/{single['token']}").json()["est_route_done_at"] is None
    end = dt.datetime.fromisoformat(view["est_route_done_at"])
    runtime = runtime_of(client)
    site = runtime.config.site("nerima")
    services = [site.service(s) for s in ("moving", "nhi")] if site else []
    work = sum(s.default_service_minutes for s in services if s)
    # Said to the next five minutes, after both services' configured work (nobody waits).
    assert runtime.now() + dt.timedelta(minutes=work) <= end
    assert end < runtime.now() + dt.timedelta(minutes=work + 5)
    assert end.minute % 5 == 0 and end.second == 0
    page = client.get(f"/t/{ticket['token']}").text
    said = end.astimezone(runtime.config.policy.zone).strftime("%H:%M")
    assert f"すべての手続きが終わる目安：{said}ごろ" in page
    moving, nhi = "Change of address (moving in / out / within)", "National Health Insurance"
    for counter, after in (
        ("nerima-1", [("done", moving), ("now", nhi)]),
        ("nerima-5", [("done", moving), ("done", nhi)]),
    ):
        for action in ("call-next", "start", "complete"):
            assert counter_action(client, staff, counter, action).status_code == 200
        assert _steps(client.get(f"/t/{ticket['token']}?lang=en").text) == after


def test_cancel_asks_first_then_cancels_with_a_plain_form(client: TestClient) -> None:
    ticket = issue(client, make_token(client, "kiosk", "nerima"))
    confirm = client.get(f"/t/{ticket['token']}/cancel").text
    assert f'action="/t/{ticket["token"]}/cancel"' in confirm and "取り消しますか" in confirm
    assert client.get(f"/api/v1/tickets/{ticket['token']}").json()["status"] == "waiting"
    done = client.post(f"/t/{ticket['token']}/cancel", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/t/{ticket['token']}"
    assert client.get(f"/api/v1/tickets/{ticket['token']}").json()["status"] == "cancelled"
    page = client.get(f"/t/{ticket['token']}").text
    assert "受付は終わりました" in page and "data-cancel" not in page
    again = client.post(f"/t/{ticket['token']}/cancel")
    assert again.status_code == 200 and "もう取り消せません" in again.text


@pytest.mark.parametrize("path", ["/t/unknown", "/t/unknown/cancel"])
def test_unknown_ticket_pages_are_404_pages(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "見つかりません" in response.text


def _wait_of(page: str, service: str, cell: str = r"<td data-wait>") -> str:
    found = re.search(rf'data-service="{service}">.*?{cell}([^<]*)<', page, re.S)
    assert found is not None, service
    return found.group(1)


def test_an_empty_queue_says_no_wait_and_a_queue_its_range(client: TestClient) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    counter_action(client, staff, "nerima-1", "open")
    english, japanese = (client.get(f"/sites/nerima?lang={lang}").text for lang in ("en", "ja"))
    assert _wait_of(english, "moving") == "No wait" and "0–0" not in english
    assert _wait_of(japanese, "moving") == "待ち時間なし" and "0〜0" not in japanese
    # No counter open for the service: unchanged.
    assert _wait_of(english, "certificates") == "No counter is open"
    assert _wait_of(japanese, "certificates") == "受付中の窓口がありません"
    assert live_text(english)["wait"] == {
        "closed": "No counter is open",
        "none": "No wait",
        "range": "about {lo}–{hi} min",
    }
    assert "<td data-wait>No wait</td>" in client.get("/?lang=en").text
    display = client.get("/display/nerima").text
    assert _wait_of(display, "moving", r'<span class="est" data-wait>') == "待ち時間なし"
    assert _wait_of(display, "certificates", r'<span class="est" data-wait>') == "受付停止中"
    found = re.search(r'<script type="application/json" id="display-text">(.*?)</script>', display)
    assert found is not None
    assert json.loads(found.group(1))["wait"] == {
        "closed": "受付停止中",
        "none": "待ち時間なし",
        "range": "約 {lo}〜{hi} 分",
    }

    ticket = issue(client, kiosk)
    issue(client, kiosk)
    english, japanese = (client.get(f"/sites/nerima?lang={lang}").text for lang in ("en", "ja"))
    assert re.fullmatch(r"about \d+–[1-9]\d* min", _wait_of(english, "moving"))
    assert re.fullmatch(r"約 \d+〜[1-9]\d* 分", _wait_of(japanese, "moving"))
    display = client.get("/display/nerima").text
    assert re.fullmatch(
        r"約 \d+〜[1-9]\d* 分", _wait_of(display, "moving", r'<span class="est" data-wait>')
    )
    # The phone page words its own estimate by the same rule.
    phone = client.get(f"/t/{ticket['token']}").text
    estimate = re.search(r"<dd data-estimate>([^<]*)</dd>", phone)
    assert estimate is not None
    shown = client.get(f"/api/v1/tickets/{ticket['token']}").json()
    expected = "待ち時間なし" if shown["est_wait_max"] == 0 else f"約 {shown['est_wait_min']}〜"
    assert estimate.group(1).startswith(expected)
