"""The one kiosk page: complete catalogues, and the server's copy for tablets at /kiosk/{site}."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from display_server.i18n import BROWSER_HELPER
from kiosk.page import HERE, catalog, render_page, texts
from tests.helpers import make_token


def test_catalogues_are_complete_and_cover_every_key_the_page_uses() -> None:
    keys = catalog().keys("ja")
    assert catalog().keys("en") == keys
    sources = (HERE / "templates" / "kiosk.html").read_text() + (
        HERE / "static" / "kiosk.js"
    ).read_text()
    used = set(re.findall(r"""_?t?\(["'](kiosk\.[a-z_.]*[a-z])["']""", sources))
    used |= {f"kiosk.closed.{r}" for r in ("closed", "after_cutoff", "daily_cap")}
    assert used and used <= keys, used - keys


def test_a_tablet_is_enrolled_once_and_then_issues_on_screen_only(client: TestClient) -> None:
    assert client.get("/kiosk/nerima").status_code == 401
    assert client.get("/kiosk/nerima?token=wrong").status_code == 401
    secret = make_token(client, "kiosk", "nerima")["Authorization"].split()[1]
    other = make_token(client, "kiosk", "shakujii")["Authorization"].split()[1]
    assert client.get(f"/kiosk/nerima?token={other}").status_code == 401
    assert client.post("/kiosk/nerima/issue", json={"service": "moving"}).status_code == 401

    enrolled = client.get(f"/kiosk/nerima?token={secret}&lang=en", follow_redirects=False)
    assert enrolled.status_code == 303 and enrolled.headers["location"] == "/kiosk/nerima?lang=en"
    assert "httponly" in enrolled.headers["set-cookie"].lower()
    page = client.get("/kiosk/nerima?lang=en")
    assert page.status_code == 200 and "Take a ticket" in page.text
    assert client.get("/kiosk-static/kiosk.js").status_code == 200

    body = {"service": "moving", "route": ["moving", "nhi"], "lang": "en", "key": "tablet-tap-1"}
    first = client.post("/kiosk/nerima/issue", json=body)
    again = client.post("/kiosk/nerima/issue", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["printed"] is None and "<svg" in first.json()["qr_svg"]
    assert first.json()["ticket"]["route"] == ["moving", "nhi"]
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"]
    status = client.get("/kiosk/nerima/status").json()
    assert status["ok"] and status["status"]["services"][0]["waiting"] == 1


def test_the_page_carries_plural_forms_and_the_script_that_picks_them() -> None:
    assert texts("en")["kiosk.ticket.people_ahead"] == {
        "one": "{n} person ahead of you",
        "other": "{n} people ahead of you",
    }
    assert texts("ja")["kiosk.ticket.people_ahead"] == {"other": "あなたの前に {n}人"}
    assert texts("en")["kiosk.back"] == "Back"
    page = render_page(lang="en", api="", static="/static/kiosk")
    embedded = re.search(r'id="kiosk-texts" type="application/json">(.*?)</script>', page)
    assert embedded and json.loads(embedded.group(1)) == texts("en")
    # The kiosk's own app serves only kiosk/static, so the page inlines messages.js, before
    # kiosk.js uses it.
    helper = BROWSER_HELPER.read_text(encoding="utf-8")
    assert helper in page and page.index(helper) < page.index("/static/kiosk/kiosk.js")
