"""The forecast's waits simulated at a site's own counters: the M/M/c queue where that is what
the counters are, work profiles where they are not, observed counter times, planned counters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from display_server.config import Site, WardConfig
from display_server.forecast_waits import MIN_SERVICE_SAMPLES, CounterSimulation
from forecasting.crowding import CAP_MIN, day_waits_min

MONDAY = dt.date(2026, 11, 30)
HOURS = list(range(9, 17))


def one_service_site(example: WardConfig, counters: int, minutes: float = 10.0) -> Site:
    """A site open 9:00–17:00 on weekdays whose `counters` serve "a" alone."""
    site = example.sites[0]
    service = site.services[0].model_copy(update={"id": "a", "default_service_minutes": minutes})
    hours = {
        day: site.hours["mon"].model_copy(
            update={"open": dt.time(9), "cutoff": dt.time(17), "close": dt.time(17)}
        )
        for day in ("mon", "tue", "wed", "thu", "fri")
    }
    return site.model_copy(
        update={
            "hours": hours,
            "services": (service,),
            "counters": tuple(
                c.model_copy(update={"services": ("a",)}) for c in site.counters[:counters]
            ),
        }
    )


def test_counters_that_serve_one_service_wait_as_the_m_m_c_queue(
    example_config: WardConfig,
) -> None:
    # Two counters, 10-minute exponential counter times, 9 an hour (75 % busy) all day.
    site = one_service_site(example_config, counters=2)
    arrivals = np.full(len(HOURS), 9.0)
    simulated = CounterSimulation(site, {})(MONDAY, HOURS, {"a": arrivals})["a"]
    expected = day_waits_min(
        arrivals[None], np.full((1, len(HOURS)), 2.0), np.full((1, len(HOURS)), 10.0)
    )[0]
    assert np.allclose(simulated, expected, rtol=0.15, atol=0.5)
    assert simulated[-1] > 2 * simulated[0]  # the queue builds up from an empty morning


def test_a_counter_that_serves_its_own_service_does_not_help_the_others(
    example_config: WardConfig,
) -> None:
    # Nerima: counter 4 serves マイナンバーカード alone, the other four share six services.
    site = example_config.sites[0]
    simulate = CounterSimulation(site, {})
    busy = {s.id: np.full(len(HOURS), 0.5) for s in site.services}
    busy["mynumber"] = np.full(len(HOURS), 3.6)  # 15-minute services: 90 % of one counter
    waits = simulate(MONDAY, HOURS, busy)
    one_counter, minutes = np.ones((1, len(HOURS))), np.full((1, len(HOURS)), 15.0)
    alone = day_waits_min(busy["mynumber"][None], one_counter, minutes)[0]
    assert np.allclose(waits["mynumber"], alone, rtol=0.2, atol=1.0)
    # A pool of all five counters would have put the same arrivals at a few seconds' wait.
    pooled = day_waits_min(busy["mynumber"][None] + 3.0, one_counter * 5, minutes)[0]
    assert waits["mynumber"].mean() > 10 * pooled.mean()
    assert waits["moving"].mean() < waits["mynumber"].mean() / 4


def test_observed_counter_times_are_drawn_instead_of_exponential_ones(
    example_config: WardConfig,
) -> None:
    site = one_service_site(example_config, counters=1)
    arrivals = {"a": np.full(len(HOURS), 4.5)}  # 75 % busy
    exponential = CounterSimulation(site, {})(MONDAY, HOURS, arrivals)["a"]
    steady = CounterSimulation(site, {"a": [10.0] * MIN_SERVICE_SAMPLES})(MONDAY, HOURS, arrivals)
    few = CounterSimulation(site, {"a": [10.0] * (MIN_SERVICE_SAMPLES - 1)})(
        MONDAY, HOURS, arrivals
    )
    # Constant times queue about half as long (Pollaczek–Khinchine); too few observed and the
    # configured exponential times stand.
    assert steady["a"].mean() == pytest.approx(exponential.mean() / 2, rel=0.25)
    np.testing.assert_array_equal(few["a"], exponential)


def test_planned_counters_and_the_cap(example_config: WardConfig) -> None:
    site = one_service_site(example_config, counters=3)
    arrivals = {"a": np.full(len(HOURS), 12.0)}
    all_three = CounterSimulation(site, {})(MONDAY, HOURS, arrivals)["a"]
    planned = site.model_copy(update={"planned_counters": {"mon": 1}})
    one = CounterSimulation(planned, {})(MONDAY, HOURS, arrivals)["a"]
    assert one.mean() > 4 * all_three.mean() and one.max() == CAP_MIN
    closed = site.model_copy(update={"planned_counters": {"mon": 0}})
    assert (CounterSimulation(closed, {})(MONDAY, HOURS, arrivals)["a"] == CAP_MIN).all()
    tuesday = MONDAY + dt.timedelta(days=1)  # planned for Mondays only
    np.testing.assert_array_equal(
        CounterSimulation(planned, {})(tuesday, HOURS, arrivals)["a"] > 0, all_three > 0
    )


def test_fewer_counters_at_lunch_wait_longer_then_and_only_from_then(
    example_config: WardConfig,
) -> None:
    site = one_service_site(example_config, counters=3)
    arrivals = {"a": np.full(len(HOURS), 12.0)}  # 67 % busy with three counters
    all_day = CounterSimulation(site, {})(MONDAY, HOURS, arrivals)["a"]
    lunch = site.model_copy(
        update={"planned_counters": {"mon": {"09:00": 3, "12:00": 1, "13:00": 3}}}
    )
    rotated = CounterSimulation(lunch, {})(MONDAY, HOURS, arrivals)["a"]
    np.testing.assert_array_equal(rotated[:2], all_day[:2])  # 9:00 and 10:00, as before
    noon = HOURS.index(12)
    assert rotated[noon] > 3 * all_day[noon]
    assert rotated[noon + 1] > all_day[noon + 1]  # the queue lunch left, served from 13:00
    # The same plan as a whole day's count of three is the same as no plan at all.
    three = site.model_copy(update={"planned_counters": {"mon": 3}})
    same = CounterSimulation(three, {})(MONDAY, HOURS, arrivals)["a"]
    np.testing.assert_array_equal(same, all_day)


def test_days_differ_by_their_arrivals_and_quiet_hours_are_filled(
    example_config: WardConfig,
) -> None:
    site = one_service_site(example_config, counters=1)
    arrivals = {"a": np.array([3.0, 3.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0])}
    simulate = CounterSimulation(site, {})
    first = simulate(MONDAY, HOURS, arrivals)["a"]
    # Common random numbers: the same arrivals on another day wait the same; more arrivals at
    # 10:00 wait longer then, and the afternoon, after two hours without arrivals, as before.
    later = simulate(MONDAY + dt.timedelta(days=7), HOURS, arrivals)["a"]
    np.testing.assert_array_equal(later, first)
    busier = simulate(MONDAY, HOURS, {"a": arrivals["a"] + np.eye(8)[1]})["a"]
    assert busier[1] > first[1] * 1.1
    np.testing.assert_allclose(busier[4:], first[4:], rtol=0.05)
    elsewhere = CounterSimulation(site.model_copy(update={"id": "elsewhere"}), {})
    assert not np.array_equal(elsewhere(MONDAY, HOURS, arrivals)["a"], first)
    assert first[2] == pytest.approx(first[1] + (first[4] - first[1]) / 3)  # from its neighbours
    assert (CounterSimulation(site, {})(MONDAY, HOURS, {"a": np.zeros(8)})["a"] == 0).all()
