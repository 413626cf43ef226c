"""`madoguchi serve --demo`: a demo account, a kiosk token, a demo clock and simulated visitors.

The visitors arrive at the simulated history's rates (`demo_history.mean_per_hour` × the
ward's weekday × hour profile) and are served in their services' configured minutes on the
server's clock, so the live queues, their estimated waits and the forecast calendar tell the
same story (a faster demo overloaded the counters: dozens waiting and "very busy" everywhere
while the calendar said "quiet").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from display_server import office
from display_server.config import WardConfig, load_config
from display_server.core import rules
from display_server.core.counters import CounterStatus
from display_server.core.errors import DomainError
from display_server.core.tickets import Channel, TicketStatus
from display_server.demo_history import mean_per_hour, prepare_history
from display_server.forecast_service import refit_workers
from display_server.live import publish_outcome
from display_server.runtime import Runtime, transact
from display_server.security import Role, hash_password, new_device_token
from display_server.settings import Settings
from display_server.store import auth as auth_store
from display_server.store import counters as counter_store
from display_server.store import tickets as ticket_store
from display_server.store.db import make_engine, make_sessionmaker
from forecasting.simulate import ward_profile

log = logging.getLogger("madoguchi.demo")
DEMO_USER = "demo"
DEMO_PASSWORD = "madoguchi-demo"
#: Seconds between two steps of the simulation.
TICK_S = 2.0
#: The first step brings this many seconds' arrivals at once: a line from the first minute.
WARM_UP_S = 900.0


def demo_clock_start(config: WardConfig, real_now: dt.datetime) -> dt.datetime | None:
    """A weekday 09:30 to start the demo clock at, or None when the real office is open now."""
    site = config.sites[0]
    zone = config.policy.zone
    local = real_now.astimezone(zone)
    hours = config.hours_on(site, local.date())
    if hours is not None and hours.open <= local.time() < hours.cutoff:
        return None
    opening = rules.next_opening(config, site, real_now)
    assert opening is not None, "the example configuration opens within three weeks"
    return opening.astimezone(zone).replace(hour=9, minute=30)


def prepare_demo(settings: Settings, *, host: str, port: int) -> None:
    """Set the demo's environment for the server process and print how to use it."""
    config = load_config(settings.config_path)
    real_now = dt.datetime.now(dt.UTC)
    start = settings.clock_start or demo_clock_start(config, real_now)
    os.environ["MADOGUCHI_DEMO"] = "true"
    os.environ["MADOGUCHI_SECURE_COOKIES"] = "false"
    os.environ.setdefault("MADOGUCHI_SECRET_KEY", secrets.token_urlsafe(48))
    if start is not None:
        os.environ["MADOGUCHI_CLOCK_START"] = start.isoformat()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with sessions() as session:
        user = auth_store.user_by_name(session, name=DEMO_USER)
        if user is None:
            auth_store.add_user(
                session,
                name=DEMO_USER,
                password_hash=hash_password(DEMO_PASSWORD),
                role=Role.ADMIN.value,
                site=None,
                now=real_now,
            )
        kiosk_token = new_device_token()
        site = config.sites[0]
        auth_store.add_token(
            session,
            token=kiosk_token,
            role=Role.KIOSK.value,
            site=site.id,
            label="demo kiosk",
            now=real_now,
        )
        session.commit()
    print("writing the simulated history and fitting the forecast …", flush=True)
    history = prepare_history(
        settings.database_url, config, now=start or real_now, workers=refit_workers(settings)
    )
    base = f"http://{host}:{port}"
    first_counter = site.counters[0].id
    lines = [
        "Madoguchi demo (simulated visitors; example configuration, not real data)",
        f"  public overview   {base}/",
        f"  lobby display     {base}/display/{site.id}",
        f"  counter console   {base}/counter/{first_counter}",
        f"  staff sign-in     {DEMO_USER} / {DEMO_PASSWORD}",
        f"  kiosk             {base}/kiosk/{site.id}?token={kiosk_token}",
        f"  forecast calendar {base}/sites/{site.id}#forecast"
        + (f"   ({history} SIMULATED past tickets written)" if history else ""),
        f"  API docs          {base}/docs",
        f"  kiosk token for {site.id}: {kiosk_token}",
    ]
    if start is not None:
        lines.append(
            f"  DEMO CLOCK: the office is closed now, so the server's time starts at {start}"
        )
    print("\n".join(lines), flush=True)


@dataclass
class _Simulation:
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))
    #: When each counter's current service should end, in the server's clock.
    ends: dict[str, dt.datetime] = field(default_factory=dict)


def _open_counters(session: Session, runtime: Runtime) -> list[office.Outcome]:
    outcomes = []
    for _site, counter in runtime.config.counters():
        state = counter_store.get_counter(session, counter=counter.id)
        if state is not None and state.status is CounterStatus.CLOSED:
            outcomes.append(
                office.set_counter_status(
                    session,
                    config=runtime.config,
                    counter_id=counter.id,
                    status=CounterStatus.OPEN,
                    now=runtime.now(),
                    staff="demo",
                )
            )
    return outcomes


def _arrive(
    session: Session, runtime: Runtime, site: str, service: str, rng: np.random.Generator
) -> office.Outcome | None:
    """A visitor takes a ticket at the kiosk; None when the office turns them away."""
    request = office.IssueRequest(
        service=service,
        channel=Channel.KIOSK,
        priority=bool(rng.random() < 0.05),
        lang=str(rng.choice(["ja", "ja", "ja", "en"])),
    )
    # Closed, after the cut-off or at the cap: the simulated visitor goes home.
    with contextlib.suppress(DomainError):
        return office.issue_ticket(
            session,
            config=runtime.config,
            site_id=site,
            request=request,
            now=runtime.now(),
            idempotency_key=None,
            issued_by="demo",
        )
    return None


def _step(
    session: Session, runtime: Runtime, sim: _Simulation, *, tick_s: float
) -> list[office.Outcome]:
    """One tick of `tick_s` seconds: the arrivals due, and each open counter moves its visitor
    along."""
    config, now, rng = runtime.config, runtime.now(), sim.rng
    local = pd.DatetimeIndex([now.astimezone(config.policy.zone).replace(tzinfo=None)])
    profile = float(ward_profile(local)[0])
    outcomes: list[office.Outcome] = []
    for site in config.sites:
        for service in site.services:
            due = rng.poisson(mean_per_hour(site, service) * profile * tick_s / 3600)
            for _ in range(due):
                outcome = _arrive(session, runtime, site.id, service.id, rng)
                if outcome is not None:
                    outcomes.append(outcome)
    for site, counter in config.counters():
        state = counter_store.get_counter(session, counter=counter.id)
        if state is None or state.status is not CounterStatus.OPEN:
            continue
        current = ticket_store.at_counter(session, counter=counter.id)
        try:
            if current is None:
                outcomes.append(
                    office.call_next(
                        session, config=config, counter_id=counter.id, now=now, staff="demo"
                    )
                )
            elif current.status is TicketStatus.CALLED:
                outcomes.append(
                    office.act_on_current(
                        session,
                        config=config,
                        counter_id=counter.id,
                        action="start",
                        now=now,
                        staff="demo",
                    )
                )
                minutes = site.service(current.service).default_service_minutes  # type: ignore[union-attr]
                sim.ends[counter.id] = now + dt.timedelta(minutes=float(rng.exponential(minutes)))
            elif now >= sim.ends.get(counter.id, now):
                outcomes.append(
                    office.act_on_current(
                        session,
                        config=config,
                        counter_id=counter.id,
                        action="complete",
                        now=now,
                        staff="demo",
                    )
                )
        except DomainError:
            continue  # nobody waiting for this counter
    return outcomes


async def simulate_visitors(runtime: Runtime) -> None:
    """Background task of the demo server: visitors arrive and counters serve them."""
    sim = _Simulation()
    for outcome in await transact(runtime, lambda s: _open_counters(s, runtime)):
        await publish_outcome(runtime, outcome)
    tick_s = WARM_UP_S
    while True:
        try:
            outcomes = await transact(
                runtime, functools.partial(_step, runtime=runtime, sim=sim, tick_s=tick_s)
            )
        except Exception:  # the demo must keep running; the next tick tries again
            log.exception("demo step failed")
            outcomes = []
        for outcome in outcomes:
            await publish_outcome(runtime, outcome)
        await asyncio.sleep(TICK_S)
        tick_s = TICK_S
