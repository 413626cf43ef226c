"""The server's forecast: configured schedules, a refit from the event log, the
nightly staleness rule, site-level hours, best times, and the demo's simulated history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from statistics import mean

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import delete, func, select

from display_server import forecast_service
from display_server.config import OpeningHours, WardConfig
from display_server.core.estimate_model import Band
from display_server.core.tickets import Event, EventType
from display_server.demo_history import SCORED, _serve, seed_history
from display_server.forecast_service import HourForecast, best_hours, open_hours
from display_server.history import SiteHistories
from display_server.runtime import Runtime
from display_server.settings import Settings
from display_server.store import events as event_store
from display_server.store import forecasts as forecast_store
from display_server.store.db import make_engine
from display_server.store.models import EventRow, ForecastFitRow, ForecastRow, TicketRow
from forecasting import available_cpus
from tests.conftest import JST, FakeClock, make_settings
from tests.helpers import runtime_of

#: Arrivals per hour of the known pattern: a morning peak, a quiet afternoon, nothing else.
PATTERN = {9: 6, 10: 4, 14: 1}


def seed_pattern(runtime: Runtime, *, weeks: int = 10, site: str = "nerima",
                 service: str = "moving", kind: EventType = EventType.ISSUED) -> None:
    """`PATTERN` arrivals on every open day of the `weeks` before the clock's day, and on the
    clock's day until now (a morning without arrivals would be news to the forecast): events
    of `kind` for `service` (routed: done at 転入 and routed on to `service`)."""
    config, now = runtime.config, runtime.now()
    site_config = config.site(site)
    assert site_config is not None
    with runtime.writer_sessions() as session:
        for n in range(weeks * 7, -1, -1):
            day = now.astimezone(JST).date() - dt.timedelta(days=n)
            if config.hours_on(site_config, day) is None:
                continue
            for hour, count in PATTERN.items():
                for k in range(count):
                    at = dt.datetime.combine(day, dt.time(hour, 5 * k), JST)
                    if at >= now:
                        break
                    event = (
                        Event(type=kind, site=site, at=at, service=service)
                        if kind is not EventType.ROUTED
                        else Event(type=kind, site=site, at=at, service="moving",
                                   data={"next_service": service})
                    )
                    event_store.append_event(session, event=event)
        session.commit()


def refit(runtime: Runtime) -> int:
    return forecast_service.refit(
        runtime.config, runtime.sessions, runtime.writer_sessions, now=runtime.now()
    )


def test_reception_hours_run_from_opening_to_cutoff() -> None:
    hours = OpeningHours(open=dt.time(8, 30), cutoff=dt.time(16, 45), close=dt.time(17))
    assert list(open_hours(hours)) == list(range(8, 17))
    exact = OpeningHours(open=dt.time(9), cutoff=dt.time(12), close=dt.time(12, 30))
    assert list(open_hours(exact)) == [9, 10, 11]


def test_schedule_closes_weekends_holidays_and_new_year(example_config: WardConfig) -> None:
    site = example_config.sites[0]
    schedule = forecast_service.schedule_for(
        example_config, site, dt.date(2026, 11, 1), dt.date(2027, 1, 10)
    )
    def is_open(when: str) -> bool:
        return bool(schedule.is_open(pd.DatetimeIndex([pd.Timestamp(when)]))[0])

    assert is_open("2026-11-24 09:00")  # a Tuesday
    assert not is_open("2026-11-24 17:00")  # after the cut-off
    assert not is_open("2026-11-23 09:00")  # 勤労感謝の日
    assert not is_open("2026-11-28 09:00")  # Saturday
    assert not is_open("2026-12-29 09:00")  # 年末年始 (closed_dates)
    assert is_open("2027-01-04 09:00")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refit_stores_the_pattern_and_only_open_hours(client: TestClient) -> None:
    runtime = runtime_of(client)
    seed_pattern(runtime)
    assert refit(runtime) > 0
    with runtime.sessions() as session:
        rows = session.scalars(select(ForecastRow)).all()
    assert {r.site for r in rows} == {"nerima"} and {r.service for r in rows} == {"moving"}
    local = [r.hour_start.astimezone(JST) for r in rows]
    assert all(8 <= t.hour <= 16 and t.weekday() < 5 for t in local)
    by_hour: dict[int, list[float]] = {}
    for row, t in zip(rows, local, strict=True):
        by_hour.setdefault(t.hour, []).append(row.arrivals)
    assert sum(by_hour[9]) / len(by_hour[9]) == pytest.approx(6, abs=1)
    assert sum(by_hour[14]) / len(by_hour[14]) == pytest.approx(1, abs=0.5)
    assert max(by_hour[12]) < 0.5


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_day_without_any_ticket_at_the_site_is_a_closure_not_zero_demand(
    client: TestClient,
) -> None:
    # The site issued nothing on its last open day before today, nor today so far (a
    # typhoon, the kiosks down): that day is no demand of zero, so the same weekday next week
    # is forecast as the pattern (counted as open, it would take the mean to 6 × 7/8), and no
    # service is taken for stopped (a whole busy day empty since its last ticket).
    runtime = runtime_of(client)
    seed_pattern(runtime)
    today = runtime.now().astimezone(JST).date()
    site = runtime.config.site("nerima")
    assert site is not None
    outage = next(
        today - dt.timedelta(days=n)
        for n in range(1, 8)
        if runtime.config.hours_on(site, today - dt.timedelta(days=n)) is not None
    )
    with runtime.writer_sessions() as session:
        start = dt.datetime.combine(outage, dt.time(), JST)
        session.execute(delete(EventRow).where(EventRow.at >= start))
        session.commit()
    assert refit(runtime) > 0
    with runtime.sessions() as session:
        rows = session.scalars(select(ForecastRow)).all()
    week_later = dt.datetime.combine(outage + dt.timedelta(weeks=1), dt.time(9), JST)
    (same_weekday,) = [r.arrivals for r in rows if r.hour_start == week_later]
    assert same_weekday == pytest.approx(6, abs=0.1)


def test_ticketless_days_close_from_the_first_ticket_to_yesterday(
    example_config: WardConfig,
) -> None:
    site = example_config.sites[0]
    schedule = forecast_service.schedule_for(
        example_config, site, dt.date(2026, 11, 2), dt.date(2026, 11, 30)
    )
    # Tickets on Monday to Wednesday and on Friday of one week; none before, none on Thursday
    # (an outage), none today (Monday the 16th, not over yet).
    issued = ["2026-11-09 09:00", "2026-11-10 09:00", "2026-11-11 10:00", "2026-11-13 11:00"]
    hours = pd.date_range("2026-11-02", "2026-11-16 23:00", freq="h")
    arrivals = pd.DataFrame(
        {"site": site.id, "service": "moving", "hour_start": hours,
         "count": hours.isin(pd.DatetimeIndex(issued)).astype(int)}
    )
    adjusted = forecast_service.without_ticketless_days(
        schedule, arrivals, before=dt.date(2026, 11, 16)
    )
    added = adjusted.closed_dates - schedule.closed_dates
    assert dt.date(2026, 11, 12) in added
    assert not added & {dt.date(2026, 11, 6), dt.date(2026, 11, 16), dt.date(2026, 11, 13)}
    assert adjusted.hours == schedule.hours


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tickets_routed_or_transferred_to_a_service_arrive_at_it(client: TestClient) -> None:
    runtime = runtime_of(client)
    seed_pattern(runtime)
    seed_pattern(runtime, service="nhi", kind=EventType.ROUTED)  # 転入, then 国民健康保険
    seed_pattern(runtime, service="tax", kind=EventType.TRANSFERRED)  # in the wrong line first
    assert refit(runtime) > 0
    with runtime.sessions() as session:
        rows = session.scalars(select(ForecastRow)).all()
    nine = defaultdict(list)
    for row in rows:
        if row.hour_start.astimezone(JST).hour == 9:
            nine[row.service].append(row.arrivals)
    assert set(nine) == {"moving", "nhi", "tax"}
    assert mean(nine["nhi"]) == pytest.approx(6, abs=1)
    assert mean(nine["tax"]) == pytest.approx(6, abs=1)
    assert mean(nine["moving"]) == pytest.approx(6, abs=1)  # the routing is not an arrival


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refit_if_stale_refits_once_a_day(client: TestClient, clock: FakeClock) -> None:
    runtime = runtime_of(client)
    seed_pattern(runtime, weeks=3)
    assert forecast_service.refit_if_stale(runtime)
    assert not forecast_service.refit_if_stale(runtime)
    clock.advance(hours=14)  # 00:00 the next day
    assert forecast_service.refit_if_stale(runtime)
    with runtime.sessions() as session:
        assert forecast_store.last_fitted(session) == clock.now()


def test_a_server_started_with_another_configuration_refits_the_same_day(
    client: TestClient,
) -> None:
    runtime = runtime_of(client)
    seed_pattern(runtime, weeks=5)
    assert forecast_service.refit_if_stale(runtime)
    # The same ward, restarted with fewer counters planned at Nerima: its waits are refitted.
    nerima = runtime.config.sites[0]
    lunch = nerima.model_copy(
        update={"planned_counters": {"mon": {"08:30": 5, "12:00": 1, "13:00": 5}}}
    )
    restarted = dataclasses.replace(
        runtime,
        config=runtime.config.model_copy(update={"sites": (lunch, *runtime.config.sites[1:])}),
    )
    assert forecast_service.refit_if_stale(restarted)
    assert not forecast_service.refit_if_stale(restarted)
    assert forecast_service.refit_if_stale(runtime)  # and back again
    with runtime.sessions() as session:
        fits = session.scalars(select(ForecastFitRow.config_digest)).all()
    assert fits == [forecast_service.config_digest(c) for c in (
        runtime.config, restarted.config, runtime.config
    )]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_while_the_first_refit_runs_the_calendar_says_it_is_being_computed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server started on a log without forecasts fits them in the background as it starts.
    runtime = runtime_of(client)
    seed_pattern(runtime, weeks=5)
    computing, none = (
        runtime.catalog.gettext("ja", f"forecast.{key}") for key in ("computing", "none")
    )
    assert none in client.get("/sites/nerima").text
    pages: list[str] = []
    fit = forecast_service.refit

    def page_during_the_fit(*args: object, **kwargs: object) -> None:
        pages.append(client.get("/sites/nerima").text)
        fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(forecast_service, "refit", page_during_the_fit)
    assert forecast_service.refit_if_stale(runtime)
    assert computing in pages[0] and none not in pages[0]
    after = client.get("/sites/nerima").text
    assert computing not in after and none not in after


def test_refit_is_skipped_while_another_process_holds_the_refit_lock(
    client: TestClient, settings: Settings
) -> None:
    runtime = runtime_of(client)
    seed_pattern(runtime)
    other = make_engine(settings.database_url)  # another server process, as far as locks go
    try:
        with other.connect() as connection, forecast_store.refit_lock(connection) as taken:
            assert taken
            skipped = not forecast_service.refit_if_stale(runtime)
        refitted = forecast_service.refit_if_stale(runtime)
    finally:
        other.dispose()
    assert skipped  # the other process was refitting
    assert refitted  # done once, by whoever got there after it


def test_refit_workers_follow_the_setting() -> None:
    assert forecast_service.refit_workers(make_settings("sqlite://", forecast_workers=3)) == 3
    assert forecast_service.refit_workers(make_settings("sqlite://")) == available_cpus() >= 1
    with pytest.raises(ValidationError, match="forecast_workers"):
        make_settings("sqlite://", forecast_workers=-1)


def test_best_hours_take_the_quietest_hour_of_the_best_days() -> None:
    start = dt.datetime(2026, 12, 1, 9, tzinfo=JST)

    def hour(days: int, h: int, wait: float) -> HourForecast:
        at = start.replace(hour=h) + dt.timedelta(days=days)
        return HourForecast(at, 3.0, wait, "quiet")

    hours = [hour(0, 9, 1), hour(0, 15, 0.5), hour(1, 10, 9), hour(2, 11, 2), hour(3, 9, 0.1),
             hour(8, 9, 0.0)]
    best = best_hours({h.hour_start: h for h in hours}, now=start + dt.timedelta(minutes=30))
    assert [(b.hour_start.day, b.hour_start.hour) for b in best] == [(1, 15), (3, 11), (4, 9)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simulated_history_is_labelled_and_in_order(client: TestClient) -> None:
    runtime = runtime_of(client)
    with runtime.writer_sessions() as session:
        written = seed_history(session, config=runtime.config, now=runtime.now(), days=14)
        session.commit()
        assert written > 0
        assert seed_history(session, config=runtime.config, now=runtime.now(), days=14) == 0
    with runtime.sessions() as session:
        assert forecast_store.has_simulated_history(session)
        issuers = set(session.scalars(select(TicketRow.issued_by)))
        assert issuers == {forecast_store.SIMULATED_ISSUER}
        for site in runtime.config.sites:
            seqs = session.execute(
                select(func.count(), func.min(EventRow.seq), func.max(EventRow.seq))
                .where(EventRow.site == site.id)
            ).one()
            assert seqs[1] == 1 and seqs[0] == seqs[2] == event_store.current_seq(
                session, site=site.id)
        last = session.scalar(select(func.max(TicketRow.issued_at)))
        assert last is not None and last < runtime.now()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simulated_history_calibrates_the_live_estimates(client: TestClient) -> None:
    runtime = runtime_of(client)
    now = runtime.now()
    with runtime.writer_sessions() as session:
        seed_history(session, config=runtime.config, now=now, days=SCORED.days + 14)
        session.commit()
    scored_from = now.astimezone(JST).date() - SCORED
    with runtime.sessions() as session:
        rows = session.execute(
            select(TicketRow.business_date, TicketRow.issued_at, TicketRow.called_at,
                   EventRow.data)
            .join(EventRow, EventRow.ticket_id == TicketRow.id)
            .where(TicketRow.site == "nerima", EventRow.type == EventType.ISSUED.value)
        ).all()
        view = SiteHistories().get(session, site="nerima", now=now)
    assert {day >= scored_from for day, *_ in rows} == {True, False}
    # The last weeks' tickets carry their score at issue, as the server's do; older ones not.
    # A day's first arrivals have none: the replay knows a counter open once it has served.
    assert not any("score" in data for day, _, _, data in rows if day < scored_from)
    assert mean("score" in data for day, _, _, data in rows if day >= scored_from) > 0.8
    scored = sorted(
        (data["score"], (called - issued).total_seconds() / 60) for _, issued, called, data in rows
        if "score" in data
    )
    half = len(scored) // 2
    assert mean(w for _, w in scored[half:]) > 2 * mean(w for _, w in scored[:half])
    # The server learns from them: a score's band comes from realised waits, not the model's.
    nothing = Band(0.0, 0.0, 0.0, 0.0)
    score = scored[half][0]
    assert view.history.calibrated("certificates", False, score, nothing).median > 0


def test_simulated_history_serves_a_day_as_the_counters_would(
    example_config: WardConfig,
) -> None:
    # A busy morning at Nerima: every service's tickets, served by the five shared counters.
    site = example_config.sites[0]
    rng = np.random.default_rng(3)
    opening = dt.datetime(2026, 11, 30, 8, 30, tzinfo=JST)
    times = {
        service.id: sorted(
            opening + dt.timedelta(minutes=float(m)) for m in rng.uniform(0, 240, 25)
        )
        for service in site.services
    }
    visits = _serve(site, times, rng)
    assert {s: len(v) for s, v in visits.items()} == {s: 25 for s in times}
    counters = {counter.id: counter for counter in site.counters}
    by_counter: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    all_visits = [(service, v) for service, served in visits.items() for v in served]
    for service, (issued, counter_id, called, started, finished) in all_visits:
        counter = counters[counter_id]
        assert service in counter.services and issued <= called < started < finished
        by_counter[counter_id].append((called, finished))
        # Whom the counter passed over: tickets of its profile waiting then, called later.
        passed = [
            (other, o_issued)
            for other, (o_issued, _counter, o_called, _started, _finished) in all_visits
            if other in counter.services and o_issued <= called < o_called
        ]
        if counter.policy == "longest_wait":  # nobody of its profile waiting longer
            assert not any(o_issued < issued for _other, o_issued in passed)
        else:  # strict order: nobody waiting for a service earlier in its profile
            earlier = counter.services[: counter.services.index(service)]
            assert not {other for other, _issued in passed} & set(earlier)
    for spans in by_counter.values():  # one visitor at a time per counter
        spans.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
