"""The model interface and the two baselines (seasonal naive, weekday × hour mean).

Every model is fitted on one series (``hour_start, count``) and predicts a frame with the mean
and 80 % / 95 % intervals for the *count* of arrivals in each hour. Closed hours of the opening
schedule are left out of fitting and predicted as exactly zero.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.calendar import CalendarKind
from forecasting.errors import DataError, ModelError
from forecasting.schedule import OpeningSchedule

__all__ = [
    "COLUMNS",
    "Model",
    "SeasonalNaive",
    "WeekdayHourMean",
    "count_interval",
    "history_start",
    "started",
]

COLUMNS = ["mean", "lo80", "hi80", "lo95", "hi95"]
INTERVAL_LEVELS = (0.8, 0.95)
HOUR = pd.Timedelta(hours=1)
WEEK = pd.Timedelta(days=7)


def count_interval(
    mean: np.ndarray, alpha: np.ndarray | float, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central predictive interval of a negative binomial count (Poisson when alpha = 0).

    Var = mean + alpha·mean². Each end is the integer whose tail probability is *nearest* to
    (1 - level) / 2 rather than the usual conservative quantile: on small counts a closed integer
    interval otherwise covers far more than promised (Poisson(3) "80 %" covers ~90 %).
    """
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-9)
    alpha = np.broadcast_to(np.maximum(np.asarray(alpha, dtype=float), 1e-9), mean.shape)
    size = 1.0 / alpha
    dist = stats.nbinom(size, size / (size + mean))
    tail = (1.0 - level) / 2.0
    lo = dist.ppf(tail)
    below_lo, below_next = dist.cdf(lo - 1), dist.cdf(lo)
    lo = np.where(below_next - tail < tail - below_lo, lo + 1, lo)
    hi = dist.ppf(1.0 - tail)
    above_hi, above_prev = dist.sf(hi), dist.sf(hi - 1)
    hi = np.where(above_prev - tail < tail - above_hi, hi - 1, hi)
    hi = np.maximum(hi, lo)
    return np.maximum(lo, 0.0), hi


def started(history: pd.Series) -> pd.Series:
    """`history` from its first arrival on (all of it when there was none).

    The hours before a series' first arrival are not a demand of zero but a service not yet
    offered or recorded: a server that went live ten weeks ago reads the year before as empty
    open hours. Fitted as observed, they make the series look as if it jumped from nothing to
    its present level: the GLM's year-long window then fits far below the recent weeks, the
    level correction (rightly, for such a jump) scales them up by 1.3–3.5, and calendar effects
    seen in both eras (the day after a holiday, +25 %) absorb part of the jump.
    """
    arrived = np.flatnonzero(history.to_numpy() > 0)
    return history.iloc[arrived[0] :] if len(arrived) else history


def history_start(series: pd.DataFrame) -> pd.Timestamp:
    """Where the history of a series (rows of `hour_start`, `count`) begins, as `started` has
    it: its first arrival, or its first hour when it had none."""
    arrived = series.loc[series["count"] > 0, "hour_start"]
    return pd.Timestamp((arrived if len(arrived) else series["hour_start"]).min())


class Model(ABC):
    """``fit(frame) -> self``, ``predict(index) -> frame`` (Nixtla statsforecast's shape)."""

    name: str = "model"

    def __init__(self, schedule: OpeningSchedule, calendar: CalendarKind = "jp") -> None:
        self.schedule = schedule
        self.calendar: CalendarKind = calendar
        self._end: pd.Timestamp | None = None

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on one series' hourly counts (closed hours are ignored)."""
        if not {"hour_start", "count"} <= set(frame.columns):
            raise DataError("a series frame needs columns hour_start and count")
        hour_start = pd.DatetimeIndex(frame["hour_start"])
        if hour_start.has_duplicates:
            raise DataError("one series per model: hour_start has duplicates")
        history = pd.Series(frame["count"].to_numpy(dtype=float), index=hour_start).sort_index()
        history = started(history[self.schedule.is_open(history.index)])
        if history.empty:
            raise ModelError(f"{self.name}: no open hours in the history")
        self._end = hour_start.max() + HOUR
        self._fit(history)
        return self

    def predict(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Mean and 80/95 % count intervals for each hour of `index`; zero when closed."""
        if self._end is None:
            raise ModelError(f"{self.name}: predict() before fit()")
        index = pd.DatetimeIndex(index, name="hour_start")
        out = pd.DataFrame(0.0, index=index, columns=COLUMNS)
        is_open = self.schedule.is_open(index)
        if is_open.any():
            mean, alpha = self._predict(index[is_open])
            out.loc[is_open, "mean"] = mean
            hours = index[is_open]
            lo80, hi80 = count_interval(
                mean, self._interval_alpha(alpha, 0.8, hours), self._interval_level(0.8)
            )
            lo95, hi95 = count_interval(
                mean, self._interval_alpha(alpha, 0.95, hours), self._interval_level(0.95)
            )
            out.loc[is_open, "lo80"] = lo80
            out.loc[is_open, "hi80"] = hi80
            # Separately calibrated levels must still nest.
            out.loc[is_open, "lo95"] = np.minimum(lo95, lo80)
            out.loc[is_open, "hi95"] = np.maximum(hi95, hi80)
        return out

    def predict_mean(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Only the mean (zero when closed): model selection needs no intervals."""
        if self._end is None:
            raise ModelError(f"{self.name}: predict() before fit()")
        index = pd.DatetimeIndex(index)
        mean = np.zeros(len(index))
        is_open = self.schedule.is_open(index)
        if is_open.any():
            mean[is_open] = self._predict(index[is_open])[0]
        return mean

    def _interval_alpha(
        self, alpha: np.ndarray | float, level: float, index: pd.DatetimeIndex
    ) -> np.ndarray | float:
        """The alpha of the `level` interval for the hours `index`, from `_predict`'s (one for
        every level and hour here)."""
        return alpha

    def _interval_level(self, level: float) -> float:
        """The nominal level the `level` interval is computed at (itself here)."""
        return level

    @abstractmethod
    def _fit(self, history: pd.Series) -> None:
        """Fit on open-hour counts indexed by hour_start."""

    @abstractmethod
    def _predict(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray | float]:
        """Mean and negative-binomial alpha for open hours."""


def _cell(index: pd.DatetimeIndex) -> np.ndarray:
    return index.day_of_week.to_numpy() * 24 + index.hour.to_numpy()


class WeekdayHourMean(Model):
    """Mean of each weekday × hour over the last `weeks` weeks: the baseline and the fallback."""

    name = "weekday_hour_mean"

    def __init__(
        self, schedule: OpeningSchedule, calendar: CalendarKind = "jp", *, weeks: int = 8
    ) -> None:
        super().__init__(schedule, calendar)
        self.weeks = weeks
        self._means = pd.Series(dtype=float)
        self._hour_means = pd.Series(dtype=float)
        self._overall = 0.0
        self._alpha = 0.0

    def _fit(self, history: pd.Series) -> None:
        assert self._end is not None
        recent = history[history.index >= self._end - self.weeks * WEEK]
        if recent.empty:  # a long closure: the older history is all there is
            recent = history
        cells = _cell(pd.DatetimeIndex(recent.index))
        grouped = recent.groupby(cells)
        # A cell closed for the whole window (seasonal hours) takes its last open weeks' mean.
        older = history.groupby(_cell(pd.DatetimeIndex(history.index))).apply(
            lambda cell: cell.iloc[-self.weeks * 7 :].mean()
        )
        self._means = grouped.mean().combine_first(older)
        self._hour_means = recent.groupby(recent.index.hour).mean()
        self._overall = float(recent.mean())
        mu = self._means.reindex(cells).to_numpy()
        n = grouped.size().reindex(cells).to_numpy()
        # In-sample residuals of an n-point mean understate a new hour's error by (n-1)/(n+1).
        inflate = np.where(n > 1, (n + 1) / np.maximum(n - 1, 1), 2.0)
        excess = ((recent.to_numpy() - mu) ** 2 * inflate - mu).sum()
        self._alpha = max(0.0, float(excess / max((mu**2).sum(), 1e-9)))

    def _predict(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, float]:
        mean = self._means.reindex(_cell(index)).to_numpy()
        # Cells never seen open (a new opening hour) borrow the hour's, then the overall mean.
        by_hour = self._hour_means.reindex(index.hour).to_numpy()
        mean = np.where(np.isnan(mean), by_hour, mean)
        return np.where(np.isnan(mean), self._overall, mean), self._alpha


class SeasonalNaive(Model):
    """Same hour of the latest open same weekday ("same hour last week")."""

    name = "seasonal_naive"

    def __init__(
        self, schedule: OpeningSchedule, calendar: CalendarKind = "jp", *, max_weeks: int = 8
    ) -> None:
        super().__init__(schedule, calendar)
        self.max_weeks = max_weeks
        self._history = pd.Series(dtype=float)
        self._alpha = 0.0

    def _fit(self, history: pd.Series) -> None:
        self._history = history
        before = history.reindex(history.index - WEEK).to_numpy()
        paired = ~np.isnan(before)
        y, previous = history.to_numpy()[paired], before[paired]
        if y.size:
            # The error of y_t - y_{t-7d} carries the noise of both weeks.
            excess = float(np.mean((y - previous) ** 2) - np.mean(y))
            self._alpha = max(0.0, excess / max(float(np.mean(y**2)), 1e-9))

    def _predict(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, float]:
        mean = np.full(len(index), np.nan)
        for weeks in range(1, self.max_weeks + 1):
            missing = np.isnan(mean)
            if not missing.any():
                break
            earlier = self._history.reindex(index[missing] - weeks * WEEK).to_numpy()
            mean[missing] = earlier
        # Beyond max_weeks (a long closure) the last value of the same hour is a fair stand-in.
        fallback = self._history.groupby(self._history.index.hour).last()
        mean = np.where(np.isnan(mean), fallback.reindex(index.hour).to_numpy(), mean)
        return np.nan_to_num(mean, nan=0.0), self._alpha
