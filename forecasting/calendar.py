"""Calendar effects: Japanese holidays (jpholiday), 年末年始, month start/end, the moving season."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal

import jpholiday
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from forecasting.schedule import OpeningSchedule

__all__ = [
    "CalendarKind",
    "day_features",
    "detect_calendar",
    "is_jp_closed_day",
    "is_jp_holiday",
]

#: "jp" adds Japanese calendar effects; "none" keeps only effects any office has (after a
#: closure, month start/end, trend) — for foreign data such as the Rubí or Anonymous Bank logs.
CalendarKind = Literal["jp", "none"]

#: Epoch of the trend feature, in years, so that coefficients stay readable.
_EPOCH = pd.Timestamp("2000-01-01")


@functools.cache
def _jp_holidays(year: int) -> np.ndarray:
    return np.array(sorted(day for day, _name in jpholiday.year_holidays(year)), "datetime64[D]")


def is_jp_holiday(days: pd.DatetimeIndex) -> np.ndarray:
    """National holidays (祝日・振替休日・国民の休日)."""
    if len(days) == 0:
        return np.zeros(0, dtype=bool)
    years = range(days.year.min(), days.year.max() + 1)
    holidays = np.concatenate([_jp_holidays(year) for year in years])
    return np.isin(days.to_numpy().astype("datetime64[D]"), holidays)


def _is_nenmatsu(days: pd.DatetimeIndex) -> np.ndarray:
    """年末年始 12/29–1/3, when ward offices close."""
    month, day = days.month.to_numpy(), days.day.to_numpy()
    return ((month == 12) & (day >= 29)) | ((month == 1) & (day <= 3))


def is_jp_closed_day(days: pd.DatetimeIndex) -> np.ndarray:
    """Days a Japanese ward office is closed on top of its weekly schedule."""
    return is_jp_holiday(days) | _is_nenmatsu(days)


def detect_calendar(arrivals: pd.DataFrame) -> CalendarKind:
    """The calendar an Arrivals CSV follows: "jp" unless the office opened on most Japanese
    closed days (national holidays, 年末年始) that fell on its usual working weekdays.

    A Japanese ward office is closed then, so its arrivals show those days empty; an office
    abroad serves on most of them, and Japanese holiday effects fitted to its data are noise
    (Rubí 2020: MAE 0.935 → 0.958 of the weekday × hour mean's with "jp"). A usual working
    weekday is one with arrivals on at least half of its dates. With no such day in the span
    there is no evidence either way, and the product's home calendar applies.
    """
    per_day = arrivals.groupby(pd.DatetimeIndex(arrivals["hour_start"]).normalize())["count"].sum()
    days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    active = per_day.reindex(days, fill_value=0).to_numpy() > 0
    usual = pd.Series(active).groupby(days.day_of_week).mean() >= 0.5
    considered = is_jp_closed_day(days) & usual.reindex(days.day_of_week).to_numpy()
    if not considered.any():
        return "jp"
    return "jp" if float(np.mean(~active[considered])) >= 0.5 else "none"


def _month_edges(days: pd.DatetimeIndex, schedule: OpeningSchedule, n: int) -> pd.DataFrame:
    """Whether a day is among the first / last `n` open days of its month.

    Counted in open days, not calendar days, because the rush follows the paperwork deadline of
    the month whatever weekday it falls on.
    """
    start = days.min().to_period("M").start_time
    end = days.max().to_period("M").end_time.normalize()
    span = pd.date_range(start, end, freq="D")
    open_span = pd.Series(schedule.open_days(span), index=span)
    opened = open_span[open_span]
    month = opened.index.to_period("M")
    rank = opened.groupby(month).cumcount()
    rank_back = opened[::-1].groupby(month[::-1]).cumcount()[::-1]
    edges = pd.DataFrame({"month_start": rank < n, "month_end": rank_back < n})
    return edges.reindex(days, fill_value=False).astype(float)


def _after_closure(days: pd.DatetimeIndex, schedule: OpeningSchedule) -> np.ndarray:
    """The first open day after a regular working day was closed (holiday, closure).

    Visits postponed by a closure land on the next open day, the classic 休み明け peak.
    """
    lookback = pd.date_range(days.min() - pd.Timedelta(days=10), days.max(), freq="D")
    regular = pd.Series([bool(schedule.hours.get(d.weekday())) for d in lookback], lookback)
    is_open = pd.Series(schedule.open_days(lookback), index=lookback)
    # For each day: was the latest earlier regular working day closed?
    closed_regular = (regular & ~is_open).astype(float).where(regular)
    last_regular_closed = closed_regular.shift(1).ffill()
    return last_regular_closed.reindex(days).fillna(0.0).to_numpy(dtype=float)


def day_features(
    days: pd.DatetimeIndex, schedule: OpeningSchedule, kind: CalendarKind
) -> pd.DataFrame:
    """One row per day (midnight timestamps) of calendar regressors for the GLM."""
    days = pd.DatetimeIndex(days).normalize()
    features = _month_edges(days, schedule, n=2)
    features["after_closure"] = _after_closure(days, schedule)
    features["trend"] = (days - _EPOCH).days.to_numpy() / 365.25
    if kind == "jp":
        holiday = is_jp_holiday(days)
        previous = days - pd.Timedelta(days=1)
        features["holiday"] = holiday.astype(float)
        features["after_holiday"] = is_jp_closed_day(previous).astype(float)
        features["nenmatsu"] = _is_nenmatsu(days).astype(float)
        month, day = days.month.to_numpy(), days.day.to_numpy()
        # 引越しシーズン: moves cluster from mid-March to mid-April (転入・転出届).
        features["moving_season"] = (
            ((month == 3) & (day >= 15)) | ((month == 4) & (day <= 15))
        ).astype(float)
    return features
