"""The local level of a series' day totals: how far its latest days run above or below the
fit, and how much of that a forecast carries over (the level rules)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "FULL_LEVEL",
    "LEVEL_RULES",
    "NO_LEVEL",
    "DayLevels",
    "days_ahead",
    "level_exponent",
    "origin_day_variance",
]

#: Candidate level corrections (exponent of the level ratio, half-life in days of that exponent
#: over the horizon): none, half (geometric shrinkage), all of it, and all of it fading.
LEVEL_RULES = ((0.0, np.inf), (0.5, np.inf), (1.0, np.inf), (1.0, 7.0))
#: All of the level ratio for the whole horizon, and none of it.
FULL_LEVEL = (1.0, np.inf)
NO_LEVEL = (0.0, np.inf)
#: Days ahead for which `DayLevels.forecast_variance` estimates the day-level error.
_DAY_ERROR_DAYS = 28
#: Candidate variances of a day's log ratio around the local level beyond Poisson noise (0 to
#: a factor of about e^±0.55), and of the level's random-walk step per calendar day (0 to
#: e^±0.22 a day): `DayLevels` picks the likeliest pair.
_DAY_NOISE_GRID = np.geomspace(1e-6, 0.3, 18)
_LEVEL_STEP_GRID = np.geomspace(1e-6, 0.05, 14)
#: Prior variance of the log level before the first day: a factor within about e^±1.
_LEVEL_PRIOR_VARIANCE = 0.25


def _excess_variance(quantile: float, poisson: float, level: float) -> float:
    """The variance of a day's log error beyond Poisson noise (`poisson`) with which a normal's
    central `level` interval reaches `quantile` of the absolute errors: a quantile, not the
    mean square, so a holiday or a reopening does not set the width of every ordinary day."""
    z = special.ndtri((1.0 + level) / 2.0)
    return max(0.0, (quantile / z) ** 2 - poisson)


def origin_day_variance(
    y: np.ndarray, mu: np.ndarray, day: np.ndarray, weights: np.ndarray, level: float
) -> float:
    """`_excess_variance` of the day totals of the calibration origins' forecasts (`day`
    labels each hour's origin and date; `weights`, one per hour, the origins' weights)."""
    _, inverse = np.unique(day, return_inverse=True)
    actual, fitted = np.bincount(inverse, weights=y), np.bincount(inverse, weights=mu)
    weight = np.bincount(inverse, weights=weights) / np.bincount(inverse)
    errors = np.abs(np.log((actual + 0.5) / (fitted + 0.5)))
    order = np.argsort(errors)
    cumulative = np.cumsum(weight[order]) / weight.sum()
    at = min(int(np.searchsorted(cumulative, level)), len(errors) - 1)
    poisson = float(np.average(1.0 / (fitted + 0.5), weights=weight))
    return _excess_variance(float(errors[order][at]), poisson, level)



@dataclass(frozen=True)
class DayLevels:
    """A fitting window's open days, oldest first, for the local level of the day totals: the
    log ratio of each day's actual to fitted arrivals (`observed`), its Poisson variance (1 /
    the fitted total) and its calendar day (increasing)."""

    observed: np.ndarray
    poisson: np.ndarray
    day: np.ndarray

    @classmethod
    def of(cls, age: np.ndarray, y: np.ndarray, mu: np.ndarray) -> DayLevels:
        day = (age // pd.Timedelta(days=1)).astype(int)
        actual, fitted = np.bincount(day, weights=y), np.bincount(day, weights=mu)
        days = np.flatnonzero(fitted > 0)[::-1]  # open days, oldest first
        observed = np.log((actual[days] + 0.5) / (fitted[days] + 0.5))
        return cls(observed, 1.0 / (fitted[days] + 0.5), -days)

    def _filter(
        self, noise: np.ndarray, step: np.ndarray, *, record: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The Kalman filter of the log level for each pair of day noise and level step at
        once: the level filtered to the last day, the log likelihood (up to a constant) and,
        with `record`, the level after each day (days × pairs)."""
        steps = np.diff(self.day, prepend=self.day[0] - 1).astype(float)
        level = np.zeros(noise.shape)
        variance = np.full(noise.shape, _LEVEL_PRIOR_VARIANCE)
        loglik = np.zeros(noise.shape)
        path = np.empty((len(self.day), *noise.shape)) if record else None
        for t in range(len(self.day)):
            variance = variance + step * steps[t]
            total = variance + noise + self.poisson[t]
            innovation = self.observed[t] - level
            loglik -= np.log(total) + innovation**2 / total
            gain = variance / total
            level = level + gain * innovation
            variance = variance * (1.0 - gain)
            if path is not None:
                path[t] = level
        return level, loglik, path

    @cached_property
    def _likeliest(self) -> tuple[float, float, float]:
        """(The level filtered to the last day, the day noise, the level step) of the likeliest
        pair of `_DAY_NOISE_GRID` × `_LEVEL_STEP_GRID`."""
        noise, step = (grid.ravel() for grid in np.meshgrid(_DAY_NOISE_GRID, _LEVEL_STEP_GRID))
        level, loglik, _ = self._filter(noise, step)
        best = int(np.argmax(loglik))
        return float(level[best]), float(noise[best]), float(step[best])

    @property
    def factor(self) -> float:
        """The current ratio of actual to fitted arrivals per day, by a local-level model.

        The log of each open day's ratio is observed as a level plus noise: Poisson noise and
        day-to-day variation of unknown variance; the level is a random walk whose step
        variance, per calendar day, is unknown too, so a weekend or a closure lets it wander
        further. Both variances are estimated by maximum likelihood on the history (a grid,
        with the Kalman filter run for every pair at once), and the filtered level at the end
        is the correction. It weighs recent days as the series has earned: a noisy series
        averages many days, one whose level moves follows the last few (a fixed 7-day ratio
        weighed one odd day as much as a lasting shift, and ignored the week before).
        """
        return 1.0 if len(self.day) == 0 else float(np.exp(self._likeliest[0]))

    @cached_property
    def filtered(self) -> np.ndarray:
        """The local level after each day, filtered with the likeliest variances."""
        _, noise, step = self._likeliest
        _, _, path = self._filter(np.array([noise]), np.array([step]), record=True)
        assert path is not None
        return path[:, 0]

    def forecast_variance(self, rule: tuple[float, float], level: float) -> np.ndarray:
        """Per whole days ahead (0: the next calendar day), the `_excess_variance` of the
        errors that the local level, applied by `rule` as the forecast applies it, made on the
        window's own days: how far a day's total strays from the level forecast from the days
        before it, over months of the series' history rather than the calibration origins'
        few weeks. Never decreasing with the horizon."""
        out = np.zeros(_DAY_ERROR_DAYS)
        if len(self.observed) < 20:
            return out
        path = self.filtered
        first, then = np.triu_indices(len(self.observed), 1)
        ahead = self.day[then] - self.day[first]
        keep = ahead <= _DAY_ERROR_DAYS
        first, then, ahead = first[keep], then[keep], ahead[keep]
        errors = self.observed[then] - path[first] * level_exponent(rule, ahead - 0.5)
        for h in range(_DAY_ERROR_DAYS):
            pairs = ahead == h + 1
            if pairs.sum() >= 20:
                quantile = float(np.quantile(np.abs(errors[pairs]), level))
                poisson = float(np.mean(self.poisson[then[pairs]]))
                out[h] = _excess_variance(quantile, poisson, level)
            elif h > 0:
                out[h] = out[h - 1]
        return np.maximum.accumulate(out)


def days_ahead(index: pd.DatetimeIndex, end: pd.Timestamp) -> np.ndarray:
    """Days (with fractions) from the end of a history to each hour of `index`."""
    return ((index - end) / pd.Timedelta(days=1)).to_numpy()


def level_exponent(rule: tuple[float, float], ahead: np.ndarray) -> np.ndarray:
    """The power of the level ratio `ahead` days after the end of the history."""
    weight, half_life_days = rule
    return weight * 0.5 ** (ahead / half_life_days)
