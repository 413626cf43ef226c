"""Rolling-origin backtests, per-series model selection and the contract's backtest JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import CalendarKind
from forecasting.errors import DataError, ModelError
from forecasting.glm import CalendarGLM, GLMCombination
from forecasting.models import HOUR, Model, SeasonalNaive, WeekdayHourMean, history_start
from forecasting.schedule import OpeningSchedule, infer_schedule

__all__ = [
    "BASELINES",
    "CANDIDATES",
    "backtest",
    "choose",
    "fit_or_fallback",
    "make_model",
    "select_model",
]

BASELINES = ("weekday_hour_mean", "seasonal_naive")
CANDIDATES = ("glm_cells", "glm_additive", "glm_mean", "weekday_hour_mean")
#: Below this much history the weekday × hour mean is used without a contest.
MIN_HISTORY = pd.Timedelta(weeks=4)
DAY = pd.Timedelta(days=1)
#: Weekly origins before the test start that choose the `selected` model (each forecasting
#: `horizon_days`, cut at the test start so the choice never sees the test span).
VALIDATION_ORIGINS = 8

_FACTORIES: dict[str, Callable[[OpeningSchedule, CalendarKind, bool], Model]] = {
    "weekday_hour_mean": lambda s, c, _: WeekdayHourMean(s, c),
    "seasonal_naive": lambda s, c, _: SeasonalNaive(s, c),
    # The GLMs calibrate even for mean-only use: the calibration origins also decide how much
    # of the level correction their mean applies.
    "glm_cells": lambda s, c, k: CalendarGLM(s, c, interactions=True, intervals=k),
    "glm_additive": lambda s, c, k: CalendarGLM(s, c, interactions=False, intervals=k),
    "glm_mean": lambda s, c, k: GLMCombination(s, c, intervals=k),
}


def make_model(
    name: str, schedule: OpeningSchedule, calendar: CalendarKind = "jp", *, intervals: bool = True
) -> Model:
    """A fresh, unfitted model by name; `intervals=False` when only the mean will be used."""
    try:
        return _FACTORIES[name](schedule, calendar, intervals)
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(_FACTORIES)}") from None


def fit_or_fallback(
    name: str,
    train: pd.DataFrame,
    schedule: OpeningSchedule,
    calendar: CalendarKind = "jp",
    *,
    intervals: bool = True,
) -> Model:
    """Fit `name`; if it cannot be fitted, the weekday × hour mean stands in."""
    try:
        return make_model(name, schedule, calendar, intervals=intervals).fit(train)
    except ModelError:
        return WeekdayHourMean(schedule, calendar).fit(train)


def _scored(
    series: pd.DataFrame,
    schedule: OpeningSchedule,
    calendar: CalendarKind,
    names: Sequence[str],
    origins: Sequence[pd.Timestamp],
    horizon: pd.Timedelta,
    stop: pd.Timestamp,
    *,
    intervals: bool = True,
) -> dict[str, pd.DataFrame]:
    """Predictions next to actuals, open hours only, for every origin and model."""
    rows: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    hours = pd.DatetimeIndex(series["hour_start"])
    for origin in origins:
        train = series[hours < origin]
        target = series[(hours >= origin) & (hours < min(origin + horizon, stop))]
        index = pd.DatetimeIndex(target["hour_start"])
        is_open = schedule.is_open(index)
        if train.empty or not is_open.any():
            continue
        actual = target["count"].to_numpy(dtype=float)[is_open]
        for name in names:
            model = fit_or_fallback(name, train, schedule, calendar, intervals=intervals)
            if intervals:
                predicted = model.predict(index[is_open])
            else:
                predicted = pd.DataFrame(
                    {"mean": model.predict_mean(index[is_open])}, index=index[is_open]
                )
            rows[name].append(predicted.assign(actual=actual, origin=origin))
    return {name: pd.concat(parts) for name, parts in rows.items() if parts}


def _metrics(scored: pd.DataFrame, reference_mae: float) -> dict[str, float]:
    error = scored["actual"] - scored["mean"]
    mae = _mae(scored)
    inside80 = scored["actual"].between(scored["lo80"], scored["hi80"])
    inside95 = scored["actual"].between(scored["lo95"], scored["hi95"])
    return {
        "mae": round(mae, 4),
        "rmse": round(float(np.sqrt((error**2).mean())), 4),
        "rel_mae": round(mae / reference_mae, 4) if reference_mae > 0 else float("nan"),
        "coverage80": round(float(inside80.mean()), 4),
        "coverage95": round(float(inside95.mean()), 4),
    }


def _validation_origins(start: pd.Timestamp, end: pd.Timestamp, n: int) -> list[pd.Timestamp]:
    """The last `n` weekly origins before `end` that still leave MIN_HISTORY of training."""
    origins = [end - k * pd.Timedelta(weeks=1) for k in range(n, 0, -1)]
    return [o for o in origins if o - start >= MIN_HISTORY]


def choose(scored: Mapping[str, pd.DataFrame]) -> str:
    """The model to use, from validation forecasts (`_scored` frames; `series` column optional).

    The GLM with the lowest MAE, unless the weekday × hour mean beats it by more than one
    standard error of the MAE difference, days being the independent units (errors within a
    day are correlated). This "one-standard-error rule" leans to the GLM on purpose: a few
    validation weeks are noisy, and on a toss-up the model that follows calendar effects and
    level shifts is the safer bet; the mean has to be *clearly* better to be used. By the same
    rule one GLM is used alone only when it clearly beats the other; on a toss-up between
    forecasts of such similar accuracy, their combination `glm_mean` (or, without it,
    `glm_additive`, with one coefficient per weekday and per hour instead of one per weekday ×
    hour).
    """
    maes = {name: _mae(part) for name, part in scored.items() if len(part)}
    glms = [name for name in maes if name != "weekday_hour_mean"]
    if not glms:
        return "weekday_hour_mean"
    best = min(glms, key=maes.__getitem__)
    if "glm_cells" in maes and "glm_additive" in maes:
        if _clearly_better(scored["glm_cells"], scored["glm_additive"]):
            best = "glm_cells"
        elif _clearly_better(scored["glm_additive"], scored["glm_cells"]):
            best = "glm_additive"
        else:
            best = "glm_mean" if "glm_mean" in maes else "glm_additive"
    if "weekday_hour_mean" not in maes:
        return best
    return (
        "weekday_hour_mean" if _clearly_better(scored["weekday_hour_mean"], scored[best]) else best
    )


def _clearly_better(candidate: pd.DataFrame, other: pd.DataFrame) -> bool:
    """Whether `candidate`'s MAE is lower than `other`'s by more than one standard error.

    Both were scored on the very same hours, in the same order; the standard error of the
    mean hourly gain comes from the spread of its daily sums (per origin and series).
    """
    gain = (other["actual"] - other["mean"]).abs().to_numpy() - (
        candidate["actual"] - candidate["mean"]
    ).abs().to_numpy()
    blank = np.zeros(len(gain))
    keys = [
        pd.DatetimeIndex(other.index).normalize().to_numpy(),
        other["origin"].to_numpy() if "origin" in other else blank,
        other["series"].to_numpy() if "series" in other else blank,
    ]
    daily = pd.Series(gain).groupby(keys).sum().to_numpy()
    if len(daily) < 2:
        return False
    se = float(np.std(daily, ddof=1)) * np.sqrt(len(daily)) / len(gain)
    return float(gain.mean()) > se


def select_model(
    series: pd.DataFrame,
    schedule: OpeningSchedule,
    calendar: CalendarKind = "jp",
    *,
    candidates: Sequence[str] = CANDIDATES,
    horizon_days: int = 14,
) -> str:
    """Pick the model for one series from forecasts of its last weeks (`choose`).

    Origins `horizon_days`, +1 week, +2 weeks before the end, each scored over `horizon_days`
    (capped at the end): the GLMs' own interval calibration refits at the same origins, so the
    winner's final fit reuses the fits made here.
    """
    start, end = history_start(series), series["hour_start"].max() + HOUR
    origins = [
        o
        for o in (end - horizon_days * DAY - k * pd.Timedelta(weeks=1) for k in (2, 1, 0))
        if o - start >= MIN_HISTORY
    ]
    if not origins:
        return "weekday_hour_mean"
    scored = _scored(
        series, schedule, calendar, candidates, origins, horizon_days * DAY, end, intervals=False
    )
    return choose(scored)


def backtest(
    frame: pd.DataFrame,
    *,
    schedules: Mapping[str, OpeningSchedule] | None = None,
    test_start: pd.Timestamp | None = None,
    horizon_days: int = 14,
    calendar: CalendarKind = "jp",
    models: Sequence[str] = ("glm_cells", "glm_additive", "glm_mean"),
) -> dict[str, Any]:
    """Backtest every series of an hourly frame; metrics pooled over series, in contract form.

    `schedules` maps a site to its opening schedule; a missing one is inferred from the site's
    arrivals, all services pooled (a quiet service alone would look closed half the time). The
    selected model is chosen on origins *before* `test_start`, so the test span stays unseen
    by the choice.
    """
    if horizon_days < 1:
        raise DataError("--horizon-days must be at least 1")
    hours = pd.DatetimeIndex(frame["hour_start"])
    first, stop = hours.min().normalize(), hours.max() + HOUR
    span_days = (stop - first) / DAY
    if span_days < 21:
        raise DataError(
            f"a backtest needs at least 3 weeks of arrivals; got {span_days:.0f} day(s)"
        )
    if test_start is None:
        test_start = first + pd.Timedelta(days=round(span_days * 0.8))
    test_start = pd.Timestamp(test_start).normalize()
    if test_start - first < pd.Timedelta(weeks=2) or test_start >= stop:
        raise DataError(
            f"--test-start must leave two weeks of history and some test data "
            f"(data covers {first.date()} to {(stop - HOUR).date()})"
        )
    names = [*models, *(b for b in BASELINES if b not in models)]
    origins = list(pd.date_range(test_start, stop - HOUR, freq="7D"))
    validation = _validation_origins(first, test_start, VALIDATION_ORIGINS)
    pooled: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    chosen: dict[str, list[pd.DataFrame]] = {name: [] for name in CANDIDATES}
    site_schedules = {
        str(site): (schedules or {}).get(str(site)) or infer_schedule(rows)
        for site, rows in frame.groupby("site")
    }
    for key, series in frame.groupby(["site", "service"], sort=True):
        site = str(key[0])
        schedule = site_schedules[site]
        scored = _scored(series, schedule, calendar, names, origins, horizon_days * DAY, stop)
        for name, part in scored.items():
            pooled[name].append(part)
        before = _scored(
            series,
            schedule,
            calendar,
            CANDIDATES,
            validation,
            horizon_days * DAY,
            test_start,
            intervals=False,
        )
        for name, part in before.items():
            chosen[name].append(part.assign(series=f"{key[0]}\x1f{key[1]}"))
    results = {name: pd.concat(parts) for name, parts in pooled.items() if parts}
    if "weekday_hour_mean" not in results:
        raise DataError("no open hours to score in the test span")
    reference = _mae(results["weekday_hour_mean"])
    selected = choose({name: pd.concat(parts) for name, parts in chosen.items() if parts})
    return {
        "test_start": test_start.date().isoformat(),
        "horizon_days": horizon_days,
        "selected": selected,
        "models": {n: _metrics(results[n], reference) for n in results if n not in BASELINES},
        "baselines": {n: _metrics(results[n], reference) for n in BASELINES},
    }


def _mae(scored: pd.DataFrame) -> float:
    return float((scored["actual"] - scored["mean"]).abs().mean())
