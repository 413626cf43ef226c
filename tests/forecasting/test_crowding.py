from __future__ import annotations

import heapq

import numpy as np
import pytest

from forecasting.crowding import (
    CAP_MIN,
    LEVELS,
    Thresholds,
    catalog,
    crowding_levels,
    day_waits_min,
)
from forecasting.errors import DataError

#: A Monday at a desk of 2 counters and 5-minute services (24 an hour at most): the morning
#: brings more than the counters can serve, the afternoon less.
MONDAY = np.array([6.0, 26.0, 28.0, 24.0, 16.0, 20.0, 22.0, 18.0, 12.0])


def _steady(arrivals: float, counters: int, service: float, hours: int) -> np.ndarray:
    return day_waits_min(
        np.full((1, hours), arrivals), np.full((1, hours), float(counters)),
        np.full((1, hours), service),
    )[0]


def _simulated_waits(
    arrivals: np.ndarray, counters: int, service: float, *, days: int, seed: int
) -> np.ndarray:
    """Mean wait of each hour's arrivals over `days` simulated days (FIFO, Poisson arrivals,
    exponential services), each day starting empty."""
    rng = np.random.default_rng(seed)
    total, count = np.zeros(len(arrivals)), np.zeros(len(arrivals))
    for _ in range(days):
        free = [0.0] * counters
        for hour, rate in enumerate(arrivals):
            for at in np.sort(60.0 * (hour + rng.random(rng.poisson(rate)))):
                start = max(at, heapq.heappop(free))
                heapq.heappush(free, start + rng.exponential(service))
                total[hour] += start - at
                count[hour] += 1
    return total / count


def test_a_long_day_at_a_steady_rate_reaches_erlang_c() -> None:
    # M/M/1, λ = 10/h, 5 min service: ρ = 5/6, Wq = ρ/(μ-λ) = 25 min.
    # M/M/3, λ = 30/h, 5 min: a = 2.5, P(wait) = 0.7022, Wq = P·s/(c-a) = 7.02 min.
    assert _steady(10.0, 1, 5.0, 120)[-1] == pytest.approx(25.0, abs=0.01)
    assert _steady(30.0, 3, 5.0, 24)[-1] == pytest.approx(7.0225, abs=1e-3)
    # The day starts with nobody waiting: its first hour is shorter than the steady state.
    assert _steady(30.0, 3, 5.0, 24)[0] < 4.0


def test_the_queue_of_an_overloaded_morning_is_waited_out_in_the_afternoon() -> None:
    waits = day_waits_min(MONDAY[None, :], np.full((1, 9), 2.0), np.full((1, 9), 5.0))[0]
    simulated = _simulated_waits(MONDAY, 2, 5.0, days=2000, seed=1)
    assert waits == pytest.approx(simulated, rel=0.1, abs=1.0)
    # At 16 an hour alone, Erlang C says 4.0 minutes; the morning's queue makes it about 23.
    assert waits[4] > 15.0


def test_overload_no_counter_and_no_arrivals() -> None:
    waits = day_waits_min(
        np.array([[12.0, 20.0], [5.0, 5.0], [0.0, 3.0]]),
        np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]),
        np.full((3, 2), 5.0),
    )
    assert waits[0, 1] > waits[0, 0] > 10.0  # the queue grows through the hours
    assert waits[1].tolist() == [CAP_MIN, CAP_MIN]  # people and no counter
    assert waits[2, 0] == 0.0 and 0.0 < waits[2, 1] < 5.0
    capped = day_waits_min(np.array([[40.0, 40.0]]), np.ones((1, 2)), np.full((1, 2), 5.0),
                           cap_min=90.0)
    assert capped.max() == 90.0


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(DataError, match="days × hours"):
        day_waits_min(MONDAY, np.full(9, 2.0), np.full(9, 5.0))


def test_levels_use_configurable_thresholds() -> None:
    waits = np.array([0.0, 14.9, 15.0, 30.0, 59.0, 60.0, 120.0])
    assert crowding_levels(waits).tolist() == [
        "quiet",
        "quiet",
        "moderate",
        "busy",
        "busy",
        "very_busy",
        "very_busy",
    ]
    strict = Thresholds.from_sequence([5, 10, 20])
    assert crowding_levels(np.array([6.0, 12.0, 25.0]), strict).tolist() == [
        "moderate",
        "busy",
        "very_busy",
    ]


@pytest.mark.parametrize("minutes", [[30, 15, 60], [0, 15, 30], [15, 30]])
def test_bad_thresholds_are_rejected(minutes: list[float]) -> None:
    with pytest.raises(DataError, match="threshold"):
        Thresholds.from_sequence(minutes)


def test_catalogue_has_every_level_in_japanese_and_english() -> None:
    messages = catalog()
    assert [messages.gettext("ja", f"level.{level}") for level in LEVELS] == [
        "空いています",
        "やや混雑",
        "混雑",
        "大変混雑",
    ]
    assert messages.keys("en") == messages.keys("ja")
