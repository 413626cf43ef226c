from __future__ import annotations

import pandas as pd

from forecasting.calendar import detect_calendar
from forecasting.schedule import OpeningSchedule
from tests.forecasting.helpers import one_series

#: Weekdays 8–17, open on Japanese holidays: an office abroad.
OPEN_ON_HOLIDAYS = OpeningSchedule.from_ranges(
    {d: [(8, 17)] for d in range(5)}, closed_on_holidays=False
)


def test_an_office_closed_on_japanese_holidays_follows_the_japanese_calendar() -> None:
    # 2025-01-06 + 70 days holds 成人の日, 建国記念の日 and 天皇誕生日's 振替休日, all closed.
    assert detect_calendar(one_series("2025-01-06", 70)) == "jp"


def test_an_office_open_on_japanese_holidays_does_not() -> None:
    assert detect_calendar(one_series("2025-01-06", 70, schedule=OPEN_ON_HOLIDAYS)) == "none"


def test_one_closure_on_a_japanese_holiday_among_several_open_ones_is_not_the_calendar() -> None:
    frame = one_series("2025-01-06", 70, schedule=OPEN_ON_HOLIDAYS)
    # Closed on 成人の日 only (2025-01-13), open on the two February holidays.
    frame.loc[frame["hour_start"].dt.normalize() == pd.Timestamp("2025-01-13"), "count"] = 0
    assert detect_calendar(frame) == "none"


def test_a_span_without_japanese_holidays_keeps_the_home_calendar() -> None:
    # 2025-06-02 + 28 days: no national holiday in June.
    assert detect_calendar(one_series("2025-06-02", 28, schedule=OPEN_ON_HOLIDAYS)) == "jp"


def test_holidays_on_days_the_office_never_opens_are_no_evidence() -> None:
    # 敬老の日 (Monday 2025-09-15) finds a Tuesday–Friday office closed as every Monday; it
    # opened on 秋分の日 (Tuesday 2025-09-23), the only holiday that says anything.
    tuesday_to_friday = OpeningSchedule.from_ranges(
        {d: [(8, 17)] for d in range(1, 5)}, closed_on_holidays=False
    )
    assert detect_calendar(one_series("2025-09-08", 28, schedule=tuesday_to_friday)) == "none"
