"""The statistics page in chromium: charts from a simulated day, tables, filters, CSV link."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import httpx

from display_server import office
from display_server.config import load_config
from display_server.core.counters import CounterStatus
from display_server.core.errors import NothingWaiting
from display_server.store import counters as counter_store
from display_server.store.db import make_engine, make_sessionmaker
from tests.e2e.browser import (
    LiveServer,
    add_token,
    add_user,
    assert_accessible,
    login,
    screenshot,
)

JST = dt.timezone(dt.timedelta(hours=9))
MONDAY = dt.date(2026, 11, 30)  # the day before the live server's clock starts


def simulate_day(database_url: str, day: dt.date, seed: int = 7) -> int:
    """A busy morning and a quieter afternoon at nerima, through the real use cases."""
    config = load_config()
    rng = random.Random(seed)
    sessions = make_sessionmaker(make_engine(database_url), writer=True)
    counters = ["nerima-1", "nerima-2", "nerima-3"]
    with sessions() as session:
        counter_store.sync_counters(session, config=config)
        session.commit()
    busy_until: dict[str, dt.datetime] = {}
    arrivals = 0
    minute = dt.datetime.combine(day, dt.time(8, 30), JST)
    with sessions() as session:
        for c in counters:
            office.set_counter_status(
                session,
                config=config,
                counter_id=c,
                status=CounterStatus.OPEN,
                now=minute,
                staff="sim",
            )
        session.commit()
    while minute.time() < dt.time(16, 30):
        with sessions() as session:
            rate = 0.4 if minute.hour < 12 else 0.2
            if rng.random() < rate:
                service = rng.choice(["moving", "moving", "certificates", "seal", "tax"])
                route = ("moving", "nhi") if service == "moving" and rng.random() < 0.3 else ()
                office.issue_ticket(
                    session,
                    config=config,
                    site_id="nerima",
                    request=office.IssueRequest(service=service, route=route),
                    now=minute,
                    idempotency_key=None,
                    issued_by="sim",
                )
                arrivals += 1
            for c in counters:
                if c in busy_until and minute >= busy_until[c]:
                    office.act_on_current(
                        session,
                        config=config,
                        counter_id=c,
                        action="complete",
                        now=minute,
                        staff="sim",
                    )
                    del busy_until[c]
                if c not in busy_until:
                    try:
                        office.call_next(
                            session, config=config, counter_id=c, now=minute, staff="sim"
                        )
                    except NothingWaiting:
                        continue
                    office.act_on_current(
                        session,
                        config=config,
                        counter_id=c,
                        action="start",
                        now=minute + dt.timedelta(minutes=1),
                        staff="sim",
                    )
                    busy_until[c] = minute + dt.timedelta(minutes=rng.randint(3, 9))
            session.commit()
        minute += dt.timedelta(minutes=1)
    with sessions() as session:  # closing time: what is left expires, counters close
        office.expire_after_closing(
            session,
            config=config,
            site=config.sites[0],
            now=dt.datetime.combine(day, dt.time(17, 0), JST),
        )
        session.commit()
    return arrivals


def test_stats_page_shows_charts_and_tables(live_server: LiveServer, page: Any) -> None:
    arrivals = simulate_day(live_server.database_url, MONDAY)
    add_user(live_server.database_url, "suzuki", "admin")
    page.set_viewport_size({"width": 1024, "height": 768})
    login(page, live_server, "suzuki", "/stats")
    page.fill("#s-start", "2026-11-30")
    page.fill("#s-end", "2026-11-30")
    page.select_option("#s-site", "nerima")
    page.get_by_role("button", name="表示").click()
    page.wait_for_url("**/stats?*")
    assert page.locator("svg.chart[role=img]").count() == 4
    assert page.locator("svg.chart title").first.text_content() == "時間帯別の来庁者数"
    kpi = page.locator(".kpis div").first.locator("dd").inner_text()
    assert int(kpi) == arrivals
    screenshot(page, "stats-tablet-ja")
    assert_accessible(page, "/stats")

    csv_url = page.get_attribute("a[download]", "href")
    admin = add_token(live_server.database_url, "admin", None)
    csv = httpx.get(f"{live_server.url}{csv_url}", headers={"Authorization": f"Bearer {admin}"})
    assert csv.status_code == 200
    assert sum(int(line.split(",")[4]) for line in csv.text.splitlines()[1:]) == arrivals

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/stats?start=2026-11-30&end=2026-11-30&site=nerima&lang=en")
    assert page.locator("svg.chart title").first.text_content() == "Arrivals by hour"
    screenshot(page, "stats-phone-en")
    assert_accessible(page, "/stats?lang=en")


def test_stats_page_rejects_a_bad_date(live_server: LiveServer, page: Any) -> None:
    add_user(live_server.database_url, "suzuki", "admin")
    login(page, live_server, "suzuki", "/stats")
    response = page.goto(f"{live_server.url}/stats?start=2026-02-30")
    assert response.status == 400
    assert "2026-02-30" in page.inner_text(".error")
