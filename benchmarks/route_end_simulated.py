"""How well "all steps done by about HH:MM" holds for routed tickets, on a simulated office.

No queue log of a ward office records visits to several services on one ticket, so this drives
the real server (`create_app`, SQLite, a clock set by the simulation) through simulated days at
the example ward's Nerima office, over its API as kiosks and counters would:

- arrivals: Poisson, at the demo's rate per service (`demo_history.mean_per_hour`, flat over the
  day; `--load` scales it) from 08:30 to the 16:45 cut-off; of the 転入・転出 visitors,
  `--routed` (default 30 %) go on to 国民健康保険 and a third of those also to 児童手当;
- counters: all five open at 08:30 and call by their work profiles (`call-next`); each visit
  takes a one-minute walk plus an exponential service time at the configured mean;
- at each routed ticket's issue, `est_route_done_at` is read from `GET /api/v1/tickets/{token}`
  and compared with when its last service ended.

The first `--warm-up` days are served but not scored, so that the estimates have realised waits
to calibrate on, as in an office that has run for a while. Simulated, not measured: the numbers
say how the estimate copes with this office's queues, not how visitors behave.
Usage (from the project root):

    python benchmarks/route_end_simulated.py [--days 22] [--warm-up 2] [--routed 0.3] [--load 0.55]
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import itertools
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.config import Site, WardConfig, load_config
from display_server.demo_history import LOAD, WALK_MIN, mean_per_hour
from display_server.forecast_service import closed_reason
from display_server.security import new_device_token
from display_server.settings import Clock, Settings
from display_server.store import auth as auth_store
from display_server.store.db import upgrade

SITE = "nerima"
ZONE = dt.timezone(dt.timedelta(hours=9))
FIRST_DAY = dt.date(2026, 12, 1)  # a Tuesday
OPEN, CUTOFF = dt.time(8, 30), dt.time(16, 45)


class SimClock(Clock):
    """The server's clock, moved by the simulation."""

    def __init__(self) -> None:
        self.at = dt.datetime.combine(FIRST_DAY, OPEN, ZONE)
        super().__init__(self.at)

    def now(self) -> dt.datetime:
        return self.at


def open_days(config: WardConfig, site: Site, count: int) -> list[dt.date]:
    """The site's first `count` open days from `FIRST_DAY` (年末年始 and holidays skipped)."""
    days = (FIRST_DAY + dt.timedelta(days=n) for n in itertools.count())
    opened = (d for d in days if closed_reason(config, site, d) is None)
    return list(itertools.islice(opened, count))


def simulate(days: int, warm_up: int, routed: float, seed: int, load: float) -> dict[str, Any]:
    config = load_config()
    site = config.site(SITE)
    assert site is not None
    rng = np.random.default_rng(seed)
    minutes = {s.id: s.default_service_minutes for s in site.services}
    clock = SimClock()
    # (estimated, realised minutes, steps, the steps' configured work alone)
    results: list[tuple[float, float, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'route.db'}"
        upgrade(url)
        settings = Settings.model_validate({
            "database_url": url,
            "secret_key": "route-end-benchmark-" + "x" * 32, "secure_cookies": False,
        })
        with TestClient(create_app(settings, clock=clock)) as client:
            client.headers["Authorization"] = "Bearer " + _token(client)
            for number, day in enumerate(open_days(config, site, days)):
                scored = number >= warm_up
                results += _day(client, clock, day, site, minutes, rng, routed, scored,
                                load / LOAD)
    # Said nothing: a service on the way had no open counter (never here, all are open).
    unestimated = sum(math.isnan(r[0]) for r in results)
    results = [r for r in results if not math.isnan(r[0])]
    return {
        "all": _scores(results),
        **{f"{steps}_steps": _scores([r for r in results if r[2] == steps]) for steps in (2, 3)},
        "unestimated": unestimated,
    }


def _scores(results: list[tuple[float, float, int, float]]) -> dict[str, Any]:
    errors = [estimated - realised for estimated, realised, _, _ in results]
    realised = [r for _, r, _, _ in results]
    work_only = [work - r for _, r, _, work in results]
    return {
        "routed_tickets": len(results),
        "work_only_mae_minutes": round(statistics.fmean(abs(e) for e in work_only), 1),
        "realised_minutes_median": round(statistics.median(realised), 1),
        "mae_minutes": round(statistics.fmean(abs(e) for e in errors), 1),
        "median_error_minutes": round(statistics.median(errors), 1),
        "within_15_min": round(sum(abs(e) <= 15 for e in errors) / len(errors), 3),
        "done_by_the_time_said": round(sum(e >= 0 for e in errors) / len(errors), 3),
        "relative_mae": round(statistics.fmean(abs(e) for e in errors) / statistics.fmean(realised),
                              3),
    }


def _token(client: TestClient) -> str:
    """A staff token: it issues tickets (at the counter) and works the counters."""
    secret = new_device_token()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.writer_sessions() as session:
        auth_store.add_token(session, token=secret, role="staff", site=SITE,
                             label="route benchmark", now=runtime.now())
        session.commit()
    return secret


def _day(
    client: TestClient, clock: SimClock, day: dt.date, site: Site, minutes: dict[str, float],
    rng: np.random.Generator, routed: float, scored: bool, busier: float,
) -> list[tuple[float, float, int, float]]:
    """Serve one day; the scored routed tickets' (estimated, realised minutes, steps, work)."""
    opens = dt.datetime.combine(day, OPEN, ZONE)
    cutoff = dt.datetime.combine(day, CUTOFF, ZONE)
    order = itertools.count()
    events: list[tuple[dt.datetime, int, str, Any]] = []
    for service in site.services:
        rate = busier * mean_per_hour(site, service) / 60
        at = opens
        while (at := at + dt.timedelta(minutes=float(rng.exponential(1 / rate)))) < cutoff:
            route = [service.id]
            if service.id == "moving" and rng.random() < routed:
                route += ["nhi", "child"] if rng.random() < 1 / 3 else ["nhi"]
            heapq.heappush(events, (at, next(order), "arrive", route))
    clock.at = opens
    counters = [c.id for c in site.counters]
    for counter in counters:
        _post(client, f"/api/v1/counters/{counter}/open")
    idle, in_hand = set(counters), {}
    # Routed tickets by token: when issued, the minutes said then and the route.
    tracked: dict[str, tuple[dt.datetime, float | None, list[str]]] = {}
    left: dict[str, int] = {}  # token: services still to end
    done: list[tuple[float, float, int, float]] = []

    def call(counter: str) -> None:
        answer = client.post(f"/api/v1/counters/{counter}/call-next")
        if answer.status_code == 409:
            return
        answer.raise_for_status()
        ticket = answer.json()["ticket"]
        _post(client, f"/api/v1/counters/{counter}/start")
        idle.discard(counter)
        in_hand[counter] = ticket["token"]
        work = WALK_MIN + float(rng.exponential(minutes[ticket["service"]]))
        heapq.heappush(events, (clock.at + dt.timedelta(minutes=work), next(order), "end",
                                counter))

    def call_idle() -> None:
        for counter in sorted(idle):
            call(counter)

    while events:
        at, _, kind, what = heapq.heappop(events)
        clock.at = at
        if kind == "arrive":
            body: dict[str, Any] = {"service": what[0]}
            if len(what) > 1:
                body["route"] = what
            key = {"Idempotency-Key": f"{day}-{next(order)}"}
            issued = client.post(f"/api/v1/sites/{SITE}/tickets", json=body, headers=key)
            if issued.status_code == 409:  # a service's daily cap: the visitor comes another day
                continue
            issued.raise_for_status()
            ticket = issued.json()
            if len(what) > 1:
                said = client.get(f"/api/v1/tickets/{ticket['token']}").json()["est_route_done_at"]
                estimate = None if said is None else (
                    dt.datetime.fromisoformat(said) - at).total_seconds() / 60
                tracked[ticket["token"]] = (at, estimate, what)
                left[ticket["token"]] = len(what)
        else:
            _post(client, f"/api/v1/counters/{what}/complete")
            token = in_hand.pop(what)
            idle.add(what)
            if token in left:
                left[token] -= 1
                issued, estimate, route = tracked[token]
                if left[token] == 0 and scored:
                    realised = (at - issued).total_seconds() / 60
                    work = sum(WALK_MIN + minutes[s] for s in route)
                    said = math.nan if estimate is None else estimate
                    done.append((said, realised, len(route), work))
        call_idle()
    for counter in counters:  # housekeeping may have closed it already, its line served
        closed = client.post(f"/api/v1/counters/{counter}/close")
        if closed.status_code != 409:
            closed.raise_for_status()
    return done


def _post(client: TestClient, path: str) -> None:
    client.post(path).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=22, help="open days to simulate")
    parser.add_argument("--warm-up", type=int, default=2, help="first days served, not scored")
    parser.add_argument("--routed", type=float, default=0.3, help="share of 転入 routed on")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--load", type=float, default=LOAD,
        help=f"how busy the counters are on average (the demo's: {LOAD}); arrivals scale with it",
    )
    args = parser.parse_args()
    began = time.monotonic()
    result = simulate(args.days, args.warm_up, args.routed, args.seed, args.load)
    result["seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
