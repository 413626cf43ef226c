"""Opening schedules: which hours an office is open, so closed hours are predicted zero."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.calendar import is_jp_closed_day
from forecasting.errors import DataError

__all__ = ["SHORT_DAY_CLOSED_HOURS", "WARD_OFFICE", "OpeningSchedule", "infer_schedule"]

#: A day with this many of its weekday's usual hours closed is a short day: one closed hour
#: may be chance or a stray ticket's hour, two are a different timetable.
SHORT_DAY_CLOSED_HOURS = 2


@dataclass(frozen=True)
class OpeningSchedule:
    """Open hours per weekday (Mon=0; an hour `h` means the hour starting at h:00).

    A set of hours rather than one range per weekday, because real offices close at lunch or
    open only some afternoons (Rubí: Mon–Thu afternoons, Friday mornings only).
    """

    hours: Mapping[int, frozenset[int]]
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    #: Single closed hours on given dates, e.g. summer hours without afternoons.
    closed_hours: frozenset[pd.Timestamp] = field(default_factory=frozenset)
    #: Japanese national holidays and 年末年始 (12/29–1/3) are closed, as at ward offices.
    closed_on_holidays: bool = False

    @classmethod
    def from_ranges(
        cls,
        ranges: Mapping[int, Sequence[tuple[int, int]]],
        *,
        closed_dates: Iterable[dt.date] = (),
        closed_on_holidays: bool = True,
    ) -> OpeningSchedule:
        """Build from half-open hour ranges, e.g. ``{0: [(8, 12), (13, 17)]}``."""
        hours = {
            weekday: frozenset(h for start, stop in spans for h in range(start, stop))
            for weekday, spans in ranges.items()
        }
        return cls(hours, frozenset(closed_dates), closed_on_holidays=closed_on_holidays)

    def open_days(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Whether each day (midnight timestamps) opens at all."""
        days = days.normalize()
        open_weekdays = [weekday for weekday, hours in self.hours.items() if hours]
        is_open = np.isin(days.day_of_week, open_weekdays)
        if self.closed_dates:
            closed = np.array(sorted(self.closed_dates), dtype="datetime64[D]")
            is_open &= ~np.isin(days.to_numpy().astype("datetime64[D]"), closed)
        if self.closed_on_holidays:
            is_open &= ~is_jp_closed_day(days)
        return is_open

    def short_days(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Whether each day (midnight timestamps) has at least `SHORT_DAY_CLOSED_HOURS` of its
        weekday's hours closed (`closed_hours`): a summer timetable, a half day."""
        if not self.closed_hours:
            return np.zeros(len(days), dtype=bool)
        closed = pd.DatetimeIndex(sorted(self.closed_hours))
        usual = self._weekly_table()[closed.day_of_week, closed.hour]
        per_day = pd.Series(closed[usual].normalize()).value_counts()
        return np.asarray(days.isin(per_day[per_day >= SHORT_DAY_CLOSED_HOURS].index))

    def _weekly_table(self) -> np.ndarray:
        """Open hours as a weekday × hour boolean table."""
        table = np.zeros((7, 24), dtype=bool)
        for weekday, hours in self.hours.items():
            table[weekday, sorted(hours)] = True
        return table

    def is_open(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Whether each hour of `index` is an open hour."""
        if len(index) == 0:
            return np.zeros(0, dtype=bool)
        is_open = self._weekly_table()[index.day_of_week, index.hour]
        days = index.normalize()
        unique_days = days.unique()
        day_open = self.open_days(unique_days)
        is_open &= day_open[unique_days.get_indexer(days)]
        if self.closed_hours:
            is_open &= ~index.isin(list(self.closed_hours))
        return is_open


#: A typical ward office: weekdays 8:30–17:15 (the hours starting 8:00–16:00), closed on
#: national holidays and 年末年始.
WARD_OFFICE = OpeningSchedule.from_ranges({d: [(8, 17)] for d in range(5)})


def infer_schedule(frame: pd.DataFrame, *, min_share: float = 0.2) -> OpeningSchedule:
    """Infer open hours from arrivals (all series pooled).

    A weekday × hour cell is open when it has arrivals on at least `min_share` of the days that
    weekday was open: a threshold rather than "ever", because offices log a few stray tickets
    after closing time (Rubí at 14:00–15:00) that are not an opening. Days of an open weekday
    without any arrival inside the data's span are closed dates (holidays, closures).
    """
    if frame.empty:
        raise DataError("no arrivals to infer an opening schedule from")
    per_hour = frame.groupby("hour_start")["count"].sum()
    per_day = per_hour.groupby(per_hour.index.normalize()).sum()
    all_days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    per_day = per_day.reindex(all_days, fill_value=0)
    active = per_day[per_day > 0]
    active_by_weekday = active.groupby(active.index.day_of_week).size()
    all_by_weekday = pd.Series(all_days.day_of_week).value_counts()
    hours: dict[int, frozenset[int]] = {}
    positive = per_hour[per_hour > 0]
    cell_days = positive.groupby([positive.index.day_of_week, positive.index.hour]).size()
    for weekday, n_active in active_by_weekday.items():
        # A weekday that opened on only a few of its dates (a rare Saturday opening) is closed.
        if n_active < min_share * all_by_weekday.get(weekday, 0):
            continue
        hours_of_day = cell_days.xs(weekday, level=0)
        opened = hours_of_day[hours_of_day >= min_share * n_active].index
        hours[int(weekday)] = frozenset(int(h) for h in opened)
    closed = frozenset(d.date() for d, n in per_day.items() if n == 0 and hours.get(d.weekday()))
    schedule = OpeningSchedule(hours, closed, closed_on_holidays=False)
    hours_index = pd.date_range(all_days[0], all_days[-1] + pd.Timedelta(hours=23), freq="h")
    counts = per_hour.reindex(hours_index, fill_value=0)
    counts = counts[schedule.is_open(hours_index)]
    closed_hours = _empty_runs(counts)
    return OpeningSchedule(hours, closed, closed_hours, closed_on_holidays=False)


def _empty_runs(counts: pd.Series) -> frozenset[pd.Timestamp]:
    """Hours in runs of zeros per weekday × hour cell that chance cannot explain."""
    index = pd.DatetimeIndex(counts.index)
    closed: list[pd.Timestamp] = []
    for _cell, cell in counts.groupby([index.day_of_week, index.hour]):
        mean = float(cell.mean())
        if mean == 0.0:
            continue
        is_zero = (cell == 0).to_numpy()
        run_id = np.cumsum(~is_zero)
        for _run, positions in pd.Series(np.arange(len(cell))[is_zero]).groupby(run_id[is_zero]):
            # P(run of n zeros) = exp(-n·mean) < 1 %  <=>  n·mean > ln 100.
            if len(positions) * mean > np.log(100):
                closed.extend(cell.index[positions.to_numpy()])
    return frozenset(closed)
