"""The one rule that words an estimated wait on every page (`wait_estimate`, `wait_messages`),
the counter console that shows it, and the ward's time zone handed to the pages' scripts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.config import EXAMPLE_CONFIG
from display_server.i18n import load_catalog
from display_server.web.pages import WAIT_KEYS, wait_estimate, wait_messages
from tests.conftest import FakeClock, make_settings
from tests.display_server.web.logins import sign_in
from tests.helpers import counter_action, issue, make_token

CATALOG = load_catalog(Path(__file__).parents[3] / "display_server" / "locales")


@pytest.mark.parametrize(
    ("lang", "keys", "closed", "none", "range_"),
    [
        ("ja", "status", "受付中の窓口がありません", "待ち時間なし", "約 0〜5 分"),
        ("en", "status", "No counter is open", "No wait", "about 0–5 min"),
        ("ja", "display", "受付停止中", "待ち時間なし", "約 0〜5 分"),
        ("en", "display", "Not open", "No wait", "0–5 min"),
    ],
)
def test_wait_is_no_counter_no_wait_or_a_range(
    lang: str, keys: str, closed: str, none: str, range_: str
) -> None:
    _ = CATALOG.for_language(lang)
    assert wait_estimate(_, None, None, keys) == closed
    assert wait_estimate(_, 0, 0, keys) == none
    assert wait_estimate(_, 0, 5, keys) == range_
    assert wait_estimate(_, 3, 3, keys) != none  # only an upper bound of 0 is "no wait"
    messages = wait_messages(_, keys)
    assert set(messages) == {"closed", "none", "range"}
    assert messages["none"] == none and "{lo}" in messages["range"] and "{hi}" in messages["range"]


def test_every_wait_message_is_translated() -> None:
    for keys in WAIT_KEYS.values():
        for key in keys.values():
            assert key in CATALOG.keys("ja") and key in CATALOG.keys("en")


def _wait_cell(page: str, service: str) -> str:
    found = re.search(rf'<tr data-service="{service}">.*?<td data-wait>([^<]*)</td>', page, re.S)
    assert found is not None, service
    return found.group(1)


def test_console_says_no_wait_for_an_empty_queue(client: TestClient) -> None:
    staff = make_token(client, "staff", "nerima")
    sign_in(client, "tanaka", "staff", "nerima")
    counter_action(client, staff, "nerima-1", "open")
    page = client.get("/counter/nerima-1?lang=en").text
    assert _wait_cell(page, "moving") == "No wait"
    assert _wait_cell(client.get("/counter/nerima-1?lang=ja").text, "moving") == "待ち時間なし"
    found = re.search(r'<script type="application/json" id="console-text">(.*?)</script>', page)
    assert found is not None
    assert json.loads(found.group(1))["wait"]["none"] == "No wait"
    issue(client, make_token(client, "kiosk", "nerima"))
    english = _wait_cell(client.get("/counter/nerima-1?lang=en").text, "moving")
    assert re.fullmatch(r"about \d+–[1-9]\d* min", english), english
    japanese = _wait_cell(client.get("/counter/nerima-1?lang=ja").text, "moving")
    assert re.fullmatch(r"約 \d+〜[1-9]\d* 分", japanese), japanese


def test_pages_give_their_scripts_the_ward_s_time_zone(
    sqlite_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    # Clock times in the browser (the lobby clock, "updated at", a route's end) are said in
    # the ward's zone, whatever the device's own.
    config = tmp_path / "ward.toml"
    config.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
            'timezone = "Asia/Tokyo"', 'timezone = "Europe/Warsaw"'
        ),
        encoding="utf-8",
    )
    settings = make_settings(sqlite_url, config_path=config)
    with TestClient(create_app(settings, clock=clock)) as client:
        for path in ("/", "/display/nerima", "/sites/nerima"):
            assert '<html lang="ja" data-zone="Europe/Warsaw">' in client.get(path).text, path
