"""The demo's simulated visitors: they come at the simulated history's rates and are served in
their services' configured minutes on the server's clock, so the live queues stay what the
forecast calendar shows instead of growing without end."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import select

from display_server.app import create_app
from display_server.core.tickets import TicketStatus
from display_server.demo import _open_counters, _Simulation, _step
from display_server.demo_history import mean_per_hour
from display_server.store.models import TicketRow
from forecasting.simulate import ward_profile
from tests.conftest import JST, FakeClock, make_settings
from tests.helpers import runtime_of

#: A Monday at opening: the busiest morning of the week's profile.
MONDAY_0830 = dt.datetime(2026, 11, 30, 8, 30, tzinfo=JST)
NOON = MONDAY_0830.replace(hour=12, minute=0)
TICK_S = 30.0


def test_simulated_visitors_come_at_the_history_s_rates_and_are_served(
    sqlite_url: str, clock: FakeClock
) -> None:
    clock.set(MONDAY_0830)
    with TestClient(create_app(make_settings(sqlite_url), clock=clock)) as client:
        runtime = runtime_of(client)
        sim = _Simulation()
        with runtime.writer_sessions() as session:
            _open_counters(session, runtime)
            session.commit()
        # The whole morning peak, 08:30–12:00, in 30-second ticks.
        while clock.now() < NOON:
            with runtime.writer_sessions() as session:
                _step(session, runtime, sim, tick_s=TICK_S)
                session.commit()
            clock.advance(seconds=TICK_S)
        with runtime.sessions() as session:
            statuses = session.scalars(
                select(TicketRow.status).where(TicketRow.business_date == MONDAY_0830.date())
            ).all()
    ticks = pd.date_range(MONDAY_0830, NOON, freq=f"{TICK_S}s", inclusive="left")
    per_tick = ward_profile(ticks.tz_localize(None)) * TICK_S / 3600
    expected = sum(
        mean_per_hour(site, service) * per_tick.sum()
        for site in runtime.config.sites
        for service in site.services
    )
    # Poisson: within four standard deviations of what the history's rates give.
    assert abs(len(statuses) - expected) < 4 * math.sqrt(expected)
    # Served in the configured minutes: the counters keep up, no line grows without end.
    assert statuses.count(TicketStatus.DONE.value) > 0.6 * len(statuses)
    assert statuses.count(TicketStatus.WAITING.value) < 0.25 * len(statuses)
