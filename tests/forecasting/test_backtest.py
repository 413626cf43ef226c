from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import backtest, choose, select_model
from forecasting.errors import DataError
from forecasting.schedule import WARD_OFFICE, OpeningSchedule
from tests.forecasting.helpers import one_series

METRICS = {"mae", "rmse", "rel_mae", "coverage80", "coverage95"}


def test_backtest_json_has_the_contract_keys() -> None:
    frame = one_series("2025-01-06", 63, mean_per_hour=10.0)
    result = backtest(frame, test_start=pd.Timestamp("2025-02-24"), horizon_days=14)
    assert set(result) == {"test_start", "horizon_days", "selected", "models", "baselines"}
    assert result["test_start"] == "2025-02-24" and result["horizon_days"] == 14
    assert set(result["baselines"]) == {"weekday_hour_mean", "seasonal_naive"}
    assert set(result["models"]) == {"glm_cells", "glm_additive", "glm_mean"}
    assert result["selected"] in {*result["models"], *result["baselines"]}
    for metrics in [*result["models"].values(), *result["baselines"].values()]:
        assert set(metrics) == METRICS
    assert result["baselines"]["weekday_hour_mean"]["rel_mae"] == 1.0
    # On Poisson data the seasonal naive doubles the noise: it must lose to the mean.
    assert result["baselines"]["seasonal_naive"]["rel_mae"] > 1.1


def test_default_test_start_is_the_last_fifth() -> None:
    frame = one_series("2025-01-06", 70)
    assert backtest(frame)["test_start"] == "2025-03-03"  # day 56 of 70


def test_closed_hours_are_not_scored() -> None:
    frame = one_series("2025-01-06", 63, mean_per_hour=10.0)
    closed_day = dt.date(2025, 3, 5)
    schedule = OpeningSchedule(WARD_OFFICE.hours, frozenset({closed_day}), closed_on_holidays=True)
    hours = pd.DatetimeIndex(frame["hour_start"])
    noisy = frame.copy()
    # Huge counts on the closed day and at night: scoring them would change every metric.
    noisy.loc[(hours.normalize() == pd.Timestamp(closed_day)) | (hours.hour == 3), "count"] = 500
    quiet = frame.copy()
    quiet.loc[hours.normalize() == pd.Timestamp(closed_day), "count"] = 0
    kwargs = {"schedules": {"site01": schedule}, "test_start": pd.Timestamp("2025-02-24")}
    assert backtest(noisy, **kwargs)["baselines"] == backtest(quiet, **kwargs)["baselines"]


@pytest.mark.parametrize(
    ("days", "test_start", "message"),
    [
        (1, None, "at least 3 weeks"),
        (35, pd.Timestamp("2025-01-10"), "two weeks of history"),
        (35, pd.Timestamp("2026-01-01"), "test data"),
    ],
)
def test_unusable_spans_are_clear_errors(
    days: int, test_start: pd.Timestamp | None, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        backtest(one_series("2025-01-06", days), test_start=test_start)


def test_short_history_falls_back_to_the_weekday_hour_mean() -> None:
    assert select_model(one_series("2025-01-06", 21), WARD_OFFICE) == "weekday_hour_mean"
    assert select_model(one_series("2025-01-06", 84), WARD_OFFICE) != "seasonal_naive"


def _validation(gains: list[float], days: int = 14) -> dict[str, pd.DataFrame]:
    """Scored frames of one origin where the mean's absolute error exceeds the GLM's by `gain`."""
    index = pd.date_range("2025-03-03 09:00", periods=days, freq="D")
    glm = pd.DataFrame({"actual": 10.0, "mean": 8.0, "origin": index[0]}, index=index)
    errors = 2.0 + np.resize(np.asarray(gains), days)
    mean = pd.DataFrame({"actual": 10.0, "mean": 10.0 - errors, "origin": index[0]}, index=index)
    worse = glm.assign(mean=0.0)
    return {"glm_cells": glm, "glm_additive": worse, "weekday_hour_mean": mean}


def test_choose_keeps_the_glm_unless_the_mean_is_clearly_better() -> None:
    # Mean better on average but within noise (one standard error): the GLM stays.
    assert choose(_validation([-1.5, 1.0])) == "glm_cells"
    # Mean better every day: it is chosen.
    assert choose(_validation([-0.5, -0.6])) == "weekday_hour_mean"
    # GLM better: the better of the two GLMs.
    assert choose(_validation([1.0, 2.0])) == "glm_cells"
    assert choose({"weekday_hour_mean": _validation([0.0])["weekday_hour_mean"]}) == (
        "weekday_hour_mean"
    )


def test_choose_keeps_the_additive_glm_unless_the_cells_are_clearly_better() -> None:
    base = _validation([1.0, 2.0])
    # Cells better on average but within noise: the model with fewer coefficients.
    noisy = base["glm_cells"].assign(mean=8.0 + np.resize([1.8, -3.0], 14))
    assert choose({**base, "glm_additive": noisy}) == "glm_additive"
    # Cells better every day: they are chosen.
    worse = base["glm_cells"].assign(mean=7.5)
    assert choose({**base, "glm_additive": worse}) == "glm_cells"


def test_choose_combines_the_glms_unless_one_is_clearly_better() -> None:
    base = _validation([1.0, 2.0])
    noisy = base["glm_cells"].assign(mean=8.0 + np.resize([1.8, -3.0], 14))
    combined = base["glm_cells"].assign(mean=8.5)
    # Cells better on average but within noise: the two GLMs' mean.
    assert choose({**base, "glm_additive": noisy, "glm_mean": combined}) == "glm_mean"
    # Cells better every day: they are chosen, whatever the combination scored.
    assert choose({**base, "glm_mean": combined}) == "glm_cells"
