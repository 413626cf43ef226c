"""Poisson GLM with calendar effects and negative-binomial predictive intervals."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from forecasting.calendar import CalendarKind, day_features
from forecasting.day_levels import (
    FULL_LEVEL,
    LEVEL_RULES,
    NO_LEVEL,
    DayLevels,
    days_ahead,
    level_exponent,
    origin_day_variance,
)
from forecasting.errors import ModelError
from forecasting.intervals import calibrate_interval, rule_chosen_elsewhere
from forecasting.models import INTERVAL_LEVELS, WEEK, Model, _cell
from forecasting.schedule import OpeningSchedule

__all__ = ["CalendarGLM", "GLMCombination"]

#: Shorter histories do not pin down a trend; extrapolating it would do more harm than good.
_MIN_WEEKS_FOR_TREND = 12
#: Calibration (interval alphas, level weight): forecasts of this horizon from the last
#: `_CALIBRATION_ORIGINS` weekly origins that leave it inside the history (model selection in
#: `fit_all` uses three of the same origins, so their fits are shared).
_HOLDOUT = pd.Timedelta(weeks=2)
_CALIBRATION_ORIGINS = 4
#: A weekday × hour cell has shifted (`_cell_shifts`) when each of its last this many weekly
#: hours lay beyond `_SHIFT_Z` robust standard deviations of the fit, all on the same side.
_SHIFT_WEEKS = 4
_SHIFT_Z = 1.5
#: A service is paused (`_paused`) when its open hours since its last arrival, had it gone
#: on as its fit expects, would have been this unlikely to bring none: a conventional
#: significance level, and the rule's only constant.
_PAUSE_SIGNIFICANCE = 0.01
#: Median of a chi-squared variable with one degree of freedom: median(z²) / this is a
#: dispersion estimate that a few outage or campaign hours cannot inflate.
_CHI2_1_MEDIAN = 0.455
#: Number of weekday × hour cells (`forecasting.models._cell`).
_CELLS = 7 * 24
#: Prior on the generic day effects and the trend: zero, worth this many days of arrivals.
_PRIOR_DAYS = 3.0
#: The effects that prior applies to: rules of thumb that any office might or might not show,
#: unlike the Japanese calendar's named causes (holidays, 年末年始, the moving season).
_SHRUNK_EFFECTS = ("month_start", "month_end", "after_closure", "trend")
#: Prior on each hour's effect on short days (`OpeningSchedule.short_days`): zero, worth this
#: many average open hours of arrivals, about a week of that hour at a weekday office.
_PRIOR_SHORT_DAY_HOURS = 5.0
#: Prefix of the short days' hour terms' columns (`short_h8`, `short_h9`, …).
_SHORT_HOUR = "short_h"
#: Prefix of the weekly levels' columns (`week_0` the latest week, `week_1` the one before, …).
_WEEK_LEVEL = "week_"
#: Floor of the penalty on every coefficient: keeps an effect seen only with zero arrivals
#: (a holiday, say) finite.
_MIN_RIDGE = 1e-3


def _poisson_irls(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    penalty: np.ndarray,
    offset: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Poisson regression by IRLS on the normal equations: (params, information).

    `penalty` is the prior precision matrix of the coefficients, added to the information:
    a penalised likelihood, the mode of a posterior with normal priors centred on zero (a
    diagonal for independent priors; the weekly levels' random walk couples neighbours).
    `offset` is added to the linear predictor with a coefficient of one.
    Written out rather than statsmodels' GLM, and with the mostly one-hot design as a sparse
    matrix, because dense BLAS calls over the full design are what a fit costs: on a busy
    2-core host with threaded OpenBLAS a statsmodels fit took 0.3–1.3 s, this takes a few ms,
    and a refit of 100 series makes hundreds of fits.
    """
    design = sparse.csr_array(x)
    transposed = sparse.csr_array(x.T)
    mu = y + 0.5
    eta = np.log(mu)
    params = np.zeros(x.shape[1])
    for _ in range(50):
        irls_weights = weights * mu
        information = (transposed @ sparse.diags_array(irls_weights) @ design).toarray() + penalty
        working = eta - offset + (y - mu) / mu
        try:
            updated = linalg.solve(
                information, transposed @ (irls_weights * working), assume_a="pos"
            )
        except linalg.LinAlgError as exc:
            raise ModelError(f"GLM fit failed ({exc})") from exc
        eta = np.clip(offset + design @ updated, -30.0, 30.0)
        mu = np.exp(eta)
        converged = np.max(np.abs(updated - params)) < 1e-7
        params = updated
        if converged:
            weighted = sparse.diags_array(weights * mu)
            return params, (transposed @ weighted @ design).toarray() + penalty
    raise ModelError("GLM fit did not converge in 50 iterations")


#: Weight of each calibration origin relative to the next later one in `calibrate_interval`:
#: the latest fortnight counts twice the one a week before it.
_CALIBRATION_DECAY = 0.5


def _cell_shifts(cells: np.ndarray, age: np.ndarray, y: np.ndarray, mu: np.ndarray) -> pd.Series:
    """Factor by weekday × hour cell for the cells whose level has moved away from the fit.

    The recency weights let a cell follow a lasting change only over months: when the
    Anonymous Bank's Saturday-evening rush moved from 19:00 to 20:00–21:00 (Shabbat ends later
    under daylight saving), the fit kept forecasting 25–30 calls at 19:00 for weeks after there
    were two. A cell counts as shifted only when *every* one of its open hours in the last
    `_SHIFT_WEEKS` weeks (at least all but one) lay more than `_SHIFT_Z` standard deviations
    from the fit on the same side, after scaling the fit to those weeks' level (a change of
    every cell is the level correction's business): by chance 2 × 0.067⁴ ≈ 4·10⁻⁵ per cell
    (3·10⁻⁴ with three hours), and one outage or campaign hour never qualifies. The standard
    deviation uses a median-based dispersion, which such outliers cannot inflate (the Pearson
    one was twice as large on the Anonymous Bank). A shifted cell takes the ratio of its actual
    to fitted arrivals over those weeks; the others keep the fit (per-cell ratios applied to
    every cell only added noise, see docs/benchmarks.md).
    """
    dispersion = max(1.0, float(np.median((y - mu) ** 2 / np.maximum(mu, 1e-9))) / _CHI2_1_MEDIAN)
    recent = age < _SHIFT_WEEKS * WEEK
    y, cells = y[recent], cells[recent]
    mu = mu[recent] * (y.sum() + 50.0) / (mu[recent].sum() + 50.0)
    z = (y - mu) / np.sqrt(dispersion * np.maximum(mu, 1e-9))

    def per_cell(values: np.ndarray) -> np.ndarray:
        return np.bincount(cells, weights=values, minlength=_CELLS)

    weeks = per_cell(np.ones(len(y)))
    # A closed date (a holiday) may take out one of the weeks.
    shifted = (weeks >= _SHIFT_WEEKS - 1) & (
        (per_cell(z > _SHIFT_Z) == weeks) | (per_cell(z < -_SHIFT_Z) == weeks)
    )
    factors = (per_cell(y) + 1.0) / (per_cell(mu) + 1.0)
    return pd.Series(factors[shifted], index=np.flatnonzero(shifted))


def _named(columns: list[str] | pd.Index, prefix: str) -> np.ndarray:
    """Which of the design's `columns` are those of a family of terms (`_SHORT_HOUR`,
    `_WEEK_LEVEL`)."""
    return np.asarray(pd.Index(columns).str.startswith(prefix), dtype=bool)


def _centre_short_days(
    columns: list[str] | pd.Index, x: np.ndarray, shares: np.ndarray | None
) -> np.ndarray:
    """`x` with each short day's hour columns (`short_h*`) minus `shares` (`_short_shares`):
    the coefficients then move the short days' arrivals between hours, not their total (to
    first order: the shares' weighted mean of the coefficients is what a level would be, and
    that direction has no effect on the fit)."""
    if shares is None:
        return x
    where = np.flatnonzero(_named(columns, _SHORT_HOUR))
    x = x.copy()
    x[:, where] -= x[:, where].sum(axis=1)[:, None] * shares[None, :]
    return x


def _short_shares(
    columns: pd.Index, x: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> np.ndarray | None:
    """The short days' (recency-weighted) arrivals by hour as shares of their total, per
    `short_h*` column of `x`; None without short days."""
    where = np.flatnonzero(_named(columns, _SHORT_HOUR))
    if len(where) == 0:
        return None
    totals = (weights * y) @ x[:, where]
    if totals.sum() <= 0:
        return np.full(len(where), 1.0 / len(where))
    return np.asarray(totals / totals.sum())


def _with_week_levels(
    columns: pd.Index,
    x: np.ndarray,
    penalty: np.ndarray,
    age: np.ndarray,
    weights: np.ndarray,
    per_day: float,
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """`columns`, `x` and `penalty` with a level per week of the window (counted back from
    the end), and each week's share of the fit's weights.

    With a level of its own for every week, the other terms are estimated only from
    comparisons within weeks: a timetable's short days against the same weeks' full days,
    not against months at another level. Consecutive weeks' levels are tied by a random-walk
    prior (the penalty on their difference is worth `_PRIOR_DAYS` days of arrivals, as the
    other rules of thumb), so that a week with a day or two open still has a level.
    """
    week = (age // WEEK).astype(int)
    present = np.unique(week)
    onehot = (week[:, None] == present[None, :]).astype(float)
    differences = np.diff(np.eye(len(present)), axis=0)
    walk = _PRIOR_DAYS * per_day * differences.T @ differences + _MIN_RIDGE * np.eye(len(present))
    shares = weights @ onehot
    return (
        columns.append(pd.Index([f"{_WEEK_LEVEL}{w}" for w in present])),
        np.concatenate([x, onehot], axis=1),
        linalg.block_diag(penalty, walk),
        shares / shares.sum(),
    )


def _weeks_at_shares(
    columns: list[str] | pd.Index, x: np.ndarray, shares: np.ndarray | None
) -> np.ndarray:
    """`x` with the weekly levels' columns (`_with_week_levels`) at the weeks' `shares`: the
    fitted and forecast means take the level at the fit's mix of weeks, not one week's."""
    if shares is None:
        return x
    x = x.copy()
    x[:, _named(columns, _WEEK_LEVEL)] = shares
    return x


def _level_and_trend(
    columns: pd.Index,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    penalty: np.ndarray,
    params: np.ndarray,
    shares: np.ndarray,
) -> tuple[np.ndarray, float]:
    """`params` with the trend refitted, and the offset of the level, given the other terms
    (`shares`: the weeks' shares of the fit's weights, at which the forecast takes them).

    The weekly levels take the level's path, trend included (a trend fitted beside them is
    close to zero), so their weighted mean would lag a falling or rising series. Holding
    the terms estimated within weeks fixed, the level and trend are fitted as without weekly
    levels (recency weights, the trend's prior); the forecast then uses them, while the
    weekly levels, at their shares, carry the level's estimation variance.
    """
    weekly = _named(columns, _WEEK_LEVEL)
    trend = np.asarray(columns == "trend")
    offset = x[:, ~weekly & ~trend] @ params[~weekly & ~trend]
    level = np.column_stack([np.ones(len(y)), x[:, trend]])
    prior = np.diag([_MIN_RIDGE, *penalty[trend, trend]])
    fitted, _ = _poisson_irls(level, y, weights, prior, offset)
    params = params.copy()
    params[trend] = fitted[1:]
    return params, float(fitted[0] - shares @ params[weekly])


def _per_day(history: pd.Series, weights: np.ndarray) -> tuple[float, float]:
    """The (recency-weighted) mean arrivals per open hour and per open day of `history`."""
    days = len(np.unique(pd.DatetimeIndex(history.index).normalize()))
    per_hour = float(np.average(history.to_numpy(), weights=weights))
    return per_hour, per_hour * len(history) / days


@dataclass(frozen=True)
class _Fit:
    columns: list[str]
    zero_cells: list[int]
    params: np.ndarray
    cov: np.ndarray
    alpha: float
    cap: float
    level: float
    end: pd.Timestamp
    #: Factors of the cells that have shifted lately (`_cell_shifts`), by cell.
    cell_shifts: pd.Series
    #: The day totals the local level is filtered from.
    day_levels: DayLevels
    #: Shares by hour that centre the short days' hour terms (`_centre_short_days`); None
    #: where those terms may also set the short days' level, or there are none.
    short_shares: np.ndarray | None = None
    #: Where the fit has weekly levels (`_with_week_levels`): the forecast's weight on each
    #: week's level (the fit's shares of the weeks), and what is added to the linear predictor
    #: so that the level and trend are those of the data given the other terms.
    week_shares: np.ndarray | None = None
    level_offset: float = 0.0


#: Recently built designs by (schedule identity, calendar, variant, window).
_DESIGNS: dict[tuple[object, ...], tuple[OpeningSchedule, pd.DataFrame]] = {}
#: Recent fits by (schedule identity, model, window, counts digest).
_FITS: dict[tuple[object, ...], tuple[OpeningSchedule, _Fit]] = {}


_T = TypeVar("_T")


def _cached(
    store: dict[tuple[object, ...], tuple[OpeningSchedule, _T]],
    key: tuple[object, ...],
    schedule: OpeningSchedule,
    build: Callable[[], _T],
    *,
    bound: int,
    matches: Callable[[_T], bool] = lambda _: True,
) -> _T:
    """`store`'s entry for `key`, built when missing. An entry keeps the schedule it was built
    for, so that a schedule's `id` reused by a later one never matches; the store is emptied at
    `bound` entries (an entry serves the fits soon after it: one model selection, one site's
    services)."""
    hit = store.get(key)
    if hit is not None and hit[0] is schedule and matches(hit[1]):
        return hit[1]
    if len(store) >= bound:
        store.clear()
    value = build()
    store[key] = (schedule, value)
    return value


@dataclass(frozen=True)
class _Calibrated:
    """`CalendarGLM._fit`'s outcome: the fit, its in-sample alpha, the level rule and, per
    interval level, the calibrated (alpha, nominal level) and day-level excess variance."""

    fit: _Fit
    alpha: float
    level_rule: tuple[float, float]
    intervals: dict[float, tuple[float, float]]
    day_excess: dict[float, np.ndarray]


#: Recent calibrated fits by (`CalendarGLM._key` of the whole history, calibrate, intervals).
_CALIBRATED: dict[tuple[object, ...], tuple[OpeningSchedule, _Calibrated]] = {}


def _paused(
    history: pd.Series, end: pd.Timestamp, expected: Callable[[pd.DatetimeIndex], float]
) -> bool:
    """Whether a service has stopped (`history`: open hours only, up to `end`; `expected`:
    the fit's mean count over some of its hours): it is forecast as not offered.

    The mirror of `models.started`: a service paused or withdrawn (a queue renamed, one that
    closes for the summer while the office stays open) is not a demand that the level will
    follow back up. The evidence is the empty open hours since its last arrival, where the
    fit expected E arrivals: none at all has Poisson probability exp(−E), and below
    `_PAUSE_SIGNIFICANCE` the service counts as stopped. So a queue of 15 a day stops after
    one empty day and one of one a day after a week, while a queue of one a week never does
    (an empty week is what it usually shows). The hours must include a whole open day that
    has ended before `end` (a quiet morning, or this morning so far, is no pause), and a
    closure of the whole office has no open hours, so it counts for nothing. Only the
    forecast changes: the fit and its calibration are those of the history as it is, so a
    service that comes back is forecast by its fit again from its first arrival on.
    """
    arrived = history.index[history.to_numpy() > 0]
    if not len(arrived):
        return False
    empty = pd.DatetimeIndex(history.index[history.index > arrived[-1]])
    days = empty.normalize()
    if not ((days > arrived[-1].normalize()) & (days < end.normalize())).any():
        return False
    return expected(empty) > -np.log(_PAUSE_SIGNIFICANCE)


class CalendarGLM(Model):
    """log E[count] = weekday × hour (or weekday + hour) + calendar effects + trend.

    Observations are down-weighted with age (half-life `half_life_weeks`), and the forecast is
    scaled by the current ratio of actual to fitted arrivals per day, filtered by a local-level
    model of the day totals (`DayLevels.factor`), raised to a power chosen on the calibration
    origins (`LEVEL_RULES`: 0, ½, 1, or 1 fading with a 7-day half-life over the horizon),
    so a lasting shift (a summer, a pandemic) is followed within days where that has paid off,
    a passing one (a reopening backlog) only in the first days, and neither where it has not
    (holiday weeks the calendar does not know).
    A weekday × hour cell whose last four weeks all lay clearly on one side of the fit takes
    their level (`_cell_shifts`). The mean is fitted as Poisson (fast, consistent). Interval
    width: a negative binomial per interval level whose alpha, plus the estimation variance of
    the mean, makes the forecasts of the last four weekly origins before the end (two weeks
    ahead each) cover as promised.
    In-sample residuals alone give intervals that cover far too little, one holdout fortnight
    too noisy a width.
    """

    def __init__(
        self,
        schedule: OpeningSchedule,
        calendar: CalendarKind = "jp",
        *,
        interactions: bool = True,
        weeks: int = 52,
        half_life_weeks: float = 13.0,
        calibrate: bool = True,
        intervals: bool = True,
    ) -> None:
        super().__init__(schedule, calendar)
        self.name = "glm_cells" if interactions else "glm_additive"
        self.interactions = interactions
        self.weeks = weeks
        self.half_life_weeks = half_life_weeks
        # Without calibration: in-sample alpha, full level correction (tests, comparisons).
        self.calibrate = calibrate
        # Model selection compares means only: the level weight is chosen, the alpha is not.
        self.intervals = intervals
        self._fit_result: _Fit | None = None
        self._alpha = 0.0
        #: Per interval level, the alpha calibrated at the rolling origins and the nominal
        #: level its interval is computed at (`calibrate_interval`); without them, the
        #: in-sample alpha.
        self._calibrated: dict[float, tuple[float, float]] = {}
        #: Per interval level and whole days ahead, the day-level variance that the
        #: calibration origins had not shown (`DayLevels.forecast_variance`).
        self._day_excess: dict[float, np.ndarray] = {}
        #: The level correction applied (exponent, its half-life over the horizon in days),
        #: chosen at the calibration origins.
        self.level_rule = FULL_LEVEL
        #: Whether the series has stopped: its empty hours since its last arrival are too
        #: unlikely under its fit (`_paused`).
        self._paused = False

    def _design(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        # All services of a site share schedule and hours, and model selection refits on the
        # same windows: building the design once per window cuts a full refit by about half.
        key = (id(self.schedule), self.calendar, self.interactions, index[0], index[-1], len(index))
        return _cached(
            _DESIGNS, key, self.schedule, lambda: self._build_design(index), bound=64,
            matches=lambda design: design.index.equals(index),
        )

    def _build_design(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        days = index.normalize()
        calendar = day_features(days.unique(), self.schedule, self.calendar)
        design = calendar.reindex(days).set_axis(index)
        if self.interactions:
            dummies = pd.get_dummies(pd.Series(_cell(index), index=index), prefix="cell")
        else:
            dummies = pd.concat(
                [
                    pd.get_dummies(pd.Series(index.day_of_week, index=index), prefix="wd"),
                    pd.get_dummies(pd.Series(index.hour, index=index), prefix="h"),
                ],
                axis=1,
            )
        # Visitors crowd into the hours a short day keeps (Rubí's summer timetable without
        # afternoons: 8:00 +40 %, 9:00 −15 %), so short days get their own hour profile.
        short = self.schedule.short_days(days)
        if short.any():
            hours = pd.get_dummies(pd.Series(index.hour, index=index), prefix=_SHORT_HOUR)
            design = pd.concat([design, hours.astype(float).mul(short, axis=0)], axis=1)
        return pd.concat([dummies.astype(float), design], axis=1)

    def _fit(self, history: pd.Series) -> None:
        assert self._end is not None
        # `glm_mean` fits both GLMs on the histories model selection has just fitted them on.
        key = (*self._key(history, self._end), self.calibrate, self.intervals)
        state = _cached(
            _CALIBRATED, key, self.schedule, lambda: self._calibrated_fit(history), bound=64
        )
        self._fit_result, self._alpha, self.level_rule = state.fit, state.alpha, state.level_rule
        self._calibrated = state.intervals
        self._day_excess = state.day_excess
        # Designs of a few empty hours are built apart: in the shared cache they would push
        # out the fitting windows' designs.
        fit = state.fit
        self._paused = _paused(
            history,
            self._end,
            lambda hours: float(
                self._mean(fit, hours, NO_LEVEL, self._build_design(hours))[0].sum()
            ),
        )

    def _calibrated_fit(self, history: pd.Series) -> _Calibrated:
        """The fit to the end of `history`, its level rule and its interval calibration.

        Where the fitting window has short days, both ways of fitting them are calibrated (a
        profile of their own only, or a level too; `_solve`), and the one whose level rule
        forecast the calibration origins better is kept.
        """
        assert self._end is not None
        variants = [False]
        if self.calibrate and self.schedule.closed_hours:
            window = history[history.index >= self._end - self.weeks * WEEK]
            days = pd.DatetimeIndex(window.index).normalize().unique()
            if self.schedule.short_days(days).any():
                variants.append(True)
        tried: list[tuple[_Calibrated, float]] = []
        failure: ModelError | None = None
        for short_level in variants:
            try:
                tried.append(self._calibrated_variant(history, short_level))
            except ModelError as exc:  # the other variant may still fit
                failure = exc
        if not tried:
            assert failure is not None
            raise failure
        # On a tie (or without origins: both errors infinite) the profile only is kept.
        return min(tried, key=lambda state_and_error: state_and_error[1])[0]

    def _calibrated_variant(
        self, history: pd.Series, short_level: bool
    ) -> tuple[_Calibrated, float]:
        """`_calibrated_fit` with the short days' terms free to set their level or not
        (`_solve`), and the mean absolute error of its level rule's forecasts per hour at the
        calibration origins it could fit (inf without any): a variant that failed to fit at
        an origin must not gain by it."""
        assert self._end is not None
        fitted = self._fit_window(history, self._end, short_level)
        alpha, rule, error = fitted.alpha, FULL_LEVEL, np.inf
        calibrated: dict[float, tuple[float, float]] = {}
        day_excess: dict[float, np.ndarray] = {}
        if self.calibrate:
            ys, raws, levels, eta_vars, aheads, origins, days = [], [], [], [], [], [], []
            for k in range(_CALIBRATION_ORIGINS):
                cut = self._end - _HOLDOUT - k * WEEK
                if cut - history.index.min() < 2 * _HOLDOUT:
                    break
                after = history[(history.index >= cut) & (history.index < cut + _HOLDOUT)]
                if after.empty:  # closed throughout (a closure, a long holiday)
                    continue
                try:
                    before = self._fit_window(history[history.index < cut], cut, short_level)
                except ModelError:
                    continue
                raw, eta_var = self._mean(before, pd.DatetimeIndex(after.index), NO_LEVEL)
                ys.append(after.to_numpy())
                raws.append(raw)
                levels.append(np.full(len(raw), before.level))
                aheads.append(days_ahead(pd.DatetimeIndex(after.index), cut))
                eta_vars.append(eta_var)
                origins.append(np.full(len(raw), k))
                days.append(k * 100_000 + (after.index.normalize() - cut).days.to_numpy())
            if ys and sum(y.sum() for y in ys) > 0:
                y, raw, level = np.concatenate(ys), np.concatenate(raws), np.concatenate(levels)
                ahead, origin = np.concatenate(aheads), np.concatenate(origins)
                # How much of the level correction to believe, by its errors at these origins.
                forecasts = np.stack([raw * level ** level_exponent(r, ahead) for r in LEVEL_RULES])
                errors = np.abs(y - forecasts).sum(axis=1)
                best = int(np.argmin(errors))
                rule, error = LEVEL_RULES[best], float(errors[best]) / len(y)
                if self.intervals:
                    mean = rule_chosen_elsewhere(y, forecasts, origin)
                    eta_var = np.concatenate(eta_vars)
                    weights = _CALIBRATION_DECAY ** origin.astype(float)
                    day = np.concatenate(days)
                    for lv in INTERVAL_LEVELS:
                        calibrated[lv] = calibrate_interval(y, mean, eta_var, lv, weights)
                        # Where the origins' days strayed less from the forecast than the
                        # series' days have over its window, the difference is added.
                        recent = origin_day_variance(y, mean, day, weights, lv)
                        usual = fitted.day_levels.forecast_variance(rule, lv)
                        day_excess[lv] = np.maximum(usual - recent, 0.0)
        return _Calibrated(fitted, alpha, rule, calibrated, day_excess), error

    def _key(self, history: pd.Series, end: pd.Timestamp) -> tuple[object, ...]:
        """What identifies a fit of this model to `history` up to `end`."""
        return (
            id(self.schedule),
            self.name,
            self.calendar,
            self.weeks,
            self.half_life_weeks,
            end,
            history.index[0] if len(history) else None,
            hashlib.blake2b(history.to_numpy().tobytes(), digest_size=16).digest(),
        )

    def _fit_window(self, history: pd.Series, end: pd.Timestamp, short_level: bool) -> _Fit:
        history = history[history.index >= end - self.weeks * WEEK]
        # Model selection fits each candidate at the calibration origins, and consecutive
        # origins share calibration fits: each repeated fit is looked up, not refitted.
        key = (*self._key(history, end), short_level)
        return _cached(
            _FITS, key, self.schedule, lambda: self._solve(history, end, short_level), bound=256
        )

    def _solve(self, history: pd.Series, end: pd.Timestamp, short_level: bool) -> _Fit:
        cells = pd.Series(_cell(pd.DatetimeIndex(history.index)), index=history.index)
        totals = history.groupby(cells).sum()
        # A cell that never had an arrival would need an infinite negative coefficient.
        zero_cells = [int(c) for c in totals[totals == 0].index]
        history = history[~cells.isin(zero_cells)]
        if history.empty:
            raise ModelError(f"{self.name}: no arrivals in the fitting window")
        design = self._design(pd.DatetimeIndex(history.index))
        # A calendar effect absent from the window (no holiday in it) cannot be estimated.
        dummy = design.columns.str.match("^(cell|wd|h)_")
        columns = design.columns[(design.max() > design.min()).to_numpy() | dummy]
        if (history.index.max() - history.index.min()) / WEEK < _MIN_WEEKS_FOR_TREND:
            columns = columns.drop("trend", errors="ignore")
        if not self.interactions:
            # Weekday and hour dummies each span the intercept: drop one hour to stay full rank.
            columns = columns.drop([c for c in columns if c.startswith("h_")][:1])
        age_weeks = ((end - history.index) / WEEK).to_numpy()
        weights = 0.5 ** (age_weeks / self.half_life_weeks)
        x, y = design[columns].to_numpy(), history.to_numpy()
        # Short days' hour terms describe how their arrivals spread over the hours they keep.
        # Left free (`short_level`) they also set the short days' level, and where a
        # timetable shortens every day of a season that level is the season's: Rubí's summer
        # of 2020 (every Monday to Thursday short, after the lockdown) put the short days 25 %
        # below the other days, and the autumn's short Tuesdays and Thursdays were forecast
        # at it, the full Mondays and Wednesdays at the level before the lockdown. Centred on
        # the short days' shares by hour, they are a profile only, and the level is left to
        # the terms every day shares (trend, local level). `_calibrated_fit` tries both.
        shares = None if short_level else _short_shares(columns, x, y, weights)
        x = _centre_short_days(columns, x, shares)
        age = (end - history.index).to_numpy()
        per_hour, per_day = _per_day(history, weights)
        penalty = np.diag(self._ridge(columns, per_hour, per_day))
        # Centred or not, short-day terms fitted across weeks can still take the level of the
        # season they come in (above): with a level per week they are compared with full days
        # of the same weeks only. The weekday × hour terms need no such care: every week has
        # each weekday.
        week_shares, level_offset = None, 0.0
        if _named(columns, _SHORT_HOUR).any():
            columns, x, penalty, week_shares = _with_week_levels(
                columns, x, penalty, age, weights, per_day
            )
        params, information = _poisson_irls(x, y, weights, penalty)
        if week_shares is not None:
            params, level_offset = _level_and_trend(
                columns, x, y, weights, penalty, params, week_shares
            )
            x = _weeks_at_shares(columns, x, week_shares)
        cells = _cell(pd.DatetimeIndex(history.index))
        fitted = np.exp(x @ params + level_offset)
        shifts = _cell_shifts(cells, age, y, fitted)
        mu = fitted * shifts.reindex(cells).fillna(1.0).to_numpy()
        dof = max(len(y) - len(columns), 1)
        excess = (weights * ((y - mu) ** 2 - mu)).sum() * len(y) / dof
        dispersion = max(1.0, float((weights * (y - mu) ** 2 / mu).sum()) / dof)
        day_levels = DayLevels.of(age, y, mu)
        return _Fit(
            columns=list(columns),
            zero_cells=zero_cells,
            params=params,
            # Poisson standard errors ignore overdispersion; scale by the Pearson dispersion.
            cov=np.linalg.inv(information) * dispersion,
            alpha=max(0.0, float(excess / (weights * mu**2).sum())),
            cap=3.0 * float(y.max()),
            level=day_levels.factor,
            end=end,
            cell_shifts=shifts,
            day_levels=day_levels,
            short_shares=shares,
            week_shares=week_shares,
            level_offset=level_offset,
        )

    @staticmethod
    def _ridge(columns: pd.Index, per_hour: float, per_day: float) -> np.ndarray:
        """Penalty per coefficient: `_PRIOR_DAYS` days of arrivals on each `_SHRUNK_EFFECTS`
        (`per_hour` and `per_day`: the window's `_per_day`).

        The Poisson information of a day-level effect is its expected count, but arrivals vary
        from day to day far more than Poisson, so a few odd days weigh as if they were certain:
        in Rubí 2020 the reopening after the lockdown made "after a closure" −33 %, "month end"
        −22 % and the trend −68 % a year, and the day after the next holiday and the next month
        end were forecast far too low. A prior worth a few average days of arrivals (scale-free:
        the same shrinkage at 5 or 500 arrivals a day) shrinks such rules of thumb unless many
        days bear them out. The weekday and hour terms, which every week informs, and the
        Japanese calendar's named effects (a holiday's drop is real and large, but rests on a
        dozen low-count days that such a prior would halve) keep only the floor.
        """
        prior = np.where(columns.isin(_SHRUNK_EFFECTS), _PRIOR_DAYS * per_day, 0.0)
        prior += np.where(_named(columns, _SHORT_HOUR), _PRIOR_SHORT_DAY_HOURS * per_hour, 0.0)
        return prior + _MIN_RIDGE

    def _mean(
        self,
        fit: _Fit,
        index: pd.DatetimeIndex,
        level_rule: tuple[float, float],
        design: pd.DataFrame | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        if design is None:
            design = self._design(index)
        x = design.reindex(columns=fit.columns, fill_value=0.0).to_numpy()
        x = _centre_short_days(fit.columns, x, fit.short_shares)
        x = _weeks_at_shares(fit.columns, x, fit.week_shares)
        level = fit.level ** level_exponent(level_rule, days_ahead(index, fit.end))
        shift = fit.cell_shifts.reindex(_cell(index)).fillna(1.0).to_numpy()
        # A trend or rare effect must not extrapolate into absurd counts.
        mean = np.minimum(np.exp(x @ fit.params + fit.level_offset) * level * shift, fit.cap)
        mean[np.isin(_cell(index), fit.zero_cells)] = 0.0
        return mean, np.einsum("ij,jk,ik->i", x, fit.cov, x)

    def _predict(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        assert self._fit_result is not None
        mean, eta_var = self._mean(self._fit_result, index, self.level_rule)
        if self._paused:
            return np.zeros(len(mean)), eta_var
        return mean, eta_var

    def _interval_alpha(
        self, alpha: np.ndarray | float, level: float, index: pd.DatetimeIndex
    ) -> np.ndarray | float:
        alpha = alpha + self._calibrated.get(level, (self._alpha, level))[0]
        excess = self._day_excess.get(level)
        if excess is None or self._fit_result is None:
            return alpha
        ahead = np.floor(days_ahead(index, self._fit_result.end)).astype(int)
        return alpha + excess[np.clip(ahead, 0, len(excess) - 1)]

    def _interval_level(self, level: float) -> float:
        return self._calibrated.get(level, (self._alpha, level))[1]


class GLMCombination(Model):
    """The equal-weight mean of `glm_cells`' and `glm_additive`'s forecasts ("glm_mean").

    The two GLMs share the calendar effects and the level correction but pool the weekday ×
    hour profile differently, so their errors differ where one of them misjudges the profile.
    An equal-weight combination of forecasts of similar accuracy is often more accurate than
    either (the M-competitions), and its absolute error is never above the mean of theirs;
    equal weights, because weights estimated on a few validation weeks are noisier than the
    gain (the "forecast combination puzzle"). `backtest.choose` uses it where neither GLM is
    clearly better. Intervals: a negative binomial around the combined mean with the parts'
    calibrated variances (alpha, estimation and day-level variance) and nominal levels
    averaged.
    """

    name = "glm_mean"

    def __init__(
        self, schedule: OpeningSchedule, calendar: CalendarKind = "jp", *, intervals: bool = True
    ) -> None:
        super().__init__(schedule, calendar)
        self._parts = tuple(
            CalendarGLM(schedule, calendar, interactions=cells, intervals=intervals)
            for cells in (True, False)
        )

    def _fit(self, history: pd.Series) -> None:
        # `history` is already prepared by `Model.fit` (open hours, from the first arrival).
        for part in self._parts:
            part._end = self._end
            part._fit(history)

    def _predict(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        means, eta_vars = zip(*(part._predict(index) for part in self._parts), strict=True)
        return np.mean(means, axis=0), np.mean(eta_vars, axis=0)

    def _interval_alpha(
        self, alpha: np.ndarray | float, level: float, index: pd.DatetimeIndex
    ) -> np.ndarray | float:
        # Each part's alpha is the estimation variance passed in plus its own calibrated terms.
        alphas = [part._interval_alpha(alpha, level, index) for part in self._parts]
        return np.mean(np.broadcast_arrays(*alphas), axis=0)

    def _interval_level(self, level: float) -> float:
        return float(np.mean([part._interval_level(level) for part in self._parts]))
