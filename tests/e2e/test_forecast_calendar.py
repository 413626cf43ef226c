"""The site page's forecast calendar in chromium, after the demo's simulated history is seeded
and fitted: filled, marked as simulated, accessible, readable on a phone and a desktop."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from display_server import forecast_service
from display_server.config import load_config
from display_server.demo_history import seed_history
from display_server.store.db import make_engine, make_sessionmaker, upgrade
from tests.e2e.browser import (
    CLOCK_START,
    PHONE,
    LiveServer,
    assert_accessible,
    open_page,
    screenshot,
)

#: Enough history for the models' contest (four weeks and more) while seeding stays quick.
HISTORY_DAYS = 120


@pytest.fixture
def seeded_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'forecast.db'}"
    upgrade(url)
    config, now = load_config(), dt.datetime.fromisoformat(CLOCK_START)
    engine = make_engine(url)
    try:
        readers, writers = make_sessionmaker(engine), make_sessionmaker(engine, writer=True)
        with writers() as session:
            seed_history(session, config=config, now=now, days=HISTORY_DAYS)
            session.commit()
        forecast_service.refit(config, readers, writers, now=now)
    finally:
        engine.dispose()
    server = LiveServer(database_url=url, env={"MADOGUCHI_DEMO": "true"})
    server.start()
    yield server
    server.stop()


def test_site_page_shows_the_forecast_calendar(seeded_server: LiveServer, browser: Any) -> None:
    with open_page(browser, PHONE) as phone:
        phone.goto(f"{seeded_server.url}/sites/nerima")
        calendar = phone.locator("#forecast")
        assert "模擬" in calendar.locator(".forecast-simulated").inner_text()
        table = calendar.get_by_role("table")
        assert "練馬区民事務所の混雑予想" in table.locator("caption").inner_text()
        # 14 days from Tuesday 12/1 hold ten weekdays (12/1–4, 12/7–11, 12/14), nine hours each.
        assert table.locator("tbody tr").count() == 10
        levels = {"quiet", "moderate", "busy", "very_busy"}
        filled = [c.get_attribute("data-level") for c in table.locator("td.fc-cell").all()]
        # At 10:00 today's 8:00 and 9:00 hours are over.
        assert len(filled) == 90 and filled[:2] == ["past", "past"] and set(filled[2:]) <= levels
        # Every cell says its level in words, not only in colour and symbol.
        assert "空いています" in table.locator("td.fc-quiet").first.inner_text()
        assert "終了した時間帯" in table.locator("td.fc-past").first.inner_text()
        assert calendar.locator(".forecast-best li").count() == 3
        # Each recommended time is said as the part of its hour when tickets are taken.
        for when in calendar.locator(".forecast-best .best-when").all_inner_texts():
            window = re.search(r"(\d\d:\d\d)〜(\d\d:\d\d)", when)
            assert window is not None, when
            assert "08:30" <= window[1] < window[2] <= "16:45", when
        screenshot(phone, "forecast-calendar-phone-ja")
        assert_accessible(phone, "/sites/nerima forecast (phone)")
        phone.select_option("#forecast-service", "moving")
        phone.select_option("#forecast-weeks", "4")
        phone.get_by_role("button", name="表示").click()
        phone.wait_for_url("**service=moving**")
        assert "住民異動" in table.locator("caption").inner_text()
        assert table.locator("tbody tr").count() == 20  # four weeks to Monday 12/28
        screenshot(phone, "forecast-calendar-phone-ja-moving-4w")
    with open_page(browser, {"width": 1280, "height": 900}, lang="en") as desk:
        desk.goto(f"{seeded_server.url}/sites/nerima?lang=en&weeks=4")
        assert "simulated" in desk.locator(".forecast-simulated").inner_text()
        screenshot(desk, "forecast-calendar-desktop-en")
        assert_accessible(desk, "/sites/nerima forecast (desktop, en)")
