from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecasting.schedule import WARD_OFFICE, OpeningSchedule, infer_schedule
from tests.forecasting.helpers import one_series


def test_ward_office_is_closed_on_holidays_nenmatsu_and_weekends() -> None:
    hours = pd.DatetimeIndex(
        [
            "2025-05-05 10:00",  # こどもの日
            "2025-05-07 10:00",  # an ordinary Wednesday
            "2025-05-07 18:00",  # after closing
            "2025-12-30 10:00",  # 年末年始
            "2025-05-10 10:00",  # Saturday
        ]
    )
    assert WARD_OFFICE.is_open(hours).tolist() == [False, True, False, False, False]


def test_from_ranges_allows_a_lunch_break() -> None:
    schedule = OpeningSchedule.from_ranges({0: [(8, 12), (13, 17)]}, closed_on_holidays=False)
    monday = pd.date_range("2025-04-07", periods=24, freq="h")
    assert np.flatnonzero(schedule.is_open(monday)).tolist() == [8, 9, 10, 11, 13, 14, 15, 16]


def test_inferred_schedule_finds_open_cells_closed_dates_and_seasonal_hours() -> None:
    frame = one_series(days=70, mean_per_hour=8.0)
    counts = frame.set_index("hour_start")["count"]
    # A summer fortnight without afternoons and a one-off closure on a Wednesday.
    summer = (counts.index >= "2025-02-03") & (counts.index < "2025-02-17")
    counts[summer & (counts.index.hour >= 13)] = 0
    counts[counts.index.normalize() == pd.Timestamp("2025-01-22")] = 0
    schedule = infer_schedule(counts.rename("count").reset_index())
    assert set(schedule.hours) == {0, 1, 2, 3, 4}
    assert schedule.hours[0] == frozenset(range(8, 17))
    # The closure and the holidays (成人の日, 建国記念の日, 振替休日) the simulation kept closed.
    assert schedule.closed_dates == {
        dt.date(2025, 1, 13),
        dt.date(2025, 1, 22),
        dt.date(2025, 2, 11),
        dt.date(2025, 2, 24),
    }
    assert pd.Timestamp("2025-02-05 14:00") in schedule.closed_hours
    assert pd.Timestamp("2025-02-05 10:00") not in schedule.closed_hours
    assert pd.Timestamp("2025-03-05 14:00") not in schedule.closed_hours


def test_short_days_have_two_or_more_of_their_usual_hours_closed() -> None:
    # Monday to Thursday until 17:00, Friday mornings only (Rubí's week).
    schedule = OpeningSchedule.from_ranges(
        {**{d: [(8, 17)] for d in range(4)}, 4: [(8, 13)]}, closed_on_holidays=False
    )
    closed = {
        "2025-07-07": [14, 15, 16],  # Monday, afternoon closed: short
        "2025-07-08": [16],  # Tuesday, one hour only: not short
        "2025-07-11": [14, 15],  # Friday, hours it never opens anyway: not short
        "2025-07-12": [9, 10],  # Saturday, never open: not short
    }
    schedule = OpeningSchedule(
        schedule.hours,
        closed_hours=frozenset(
            pd.Timestamp(day) + pd.Timedelta(hours=h)
            for day, hours in closed.items()
            for h in hours
        ),
    )
    days = pd.DatetimeIndex([*closed, "2025-07-09"])
    assert schedule.short_days(days).tolist() == [True, False, False, False, False]
    assert not WARD_OFFICE.short_days(days).any()
