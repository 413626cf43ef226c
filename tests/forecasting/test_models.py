from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError, ModelError
from forecasting.glm import CalendarGLM, GLMCombination
from forecasting.models import SeasonalNaive, WeekdayHourMean, count_interval
from forecasting.schedule import WARD_OFFICE
from forecasting.simulate import ward_profile
from tests.forecasting.helpers import next_weeks, one_series, went_live


@pytest.mark.parametrize(
    "model",
    [
        CalendarGLM(WARD_OFFICE, interactions=True),
        CalendarGLM(WARD_OFFICE, interactions=False),
        GLMCombination(WARD_OFFICE),
        WeekdayHourMean(WARD_OFFICE),
    ],
    ids=lambda m: m.name,
)
def test_models_recover_the_weekday_hour_pattern(
    model: CalendarGLM | GLMCombination | WeekdayHourMean,
) -> None:
    # 2025-04-21 onwards: no holiday, month edge or moving season in the scored week.
    train = one_series("2025-01-06", 105, mean_per_hour=20.0, seed=1)
    index = pd.date_range("2025-04-21 00:00", "2025-04-25 23:00", freq="h")
    predicted = model.fit(train).predict(index)["mean"].to_numpy()
    truth = ward_profile(index)
    is_open = truth > 0
    ratio = predicted[is_open] / truth[is_open]
    # Up to the series' unknown volume scale, the shape must match within sampling noise.
    shape_error = np.abs(ratio / np.median(ratio) - 1.0)
    assert np.median(shape_error) < 0.1
    assert (predicted[~is_open] == 0).all()


def test_closed_hours_and_holidays_are_predicted_zero() -> None:
    train = one_series("2025-01-06", 84)
    index = pd.date_range("2025-04-28", "2025-05-07", freq="h")  # Golden Week
    models = (CalendarGLM(WARD_OFFICE), WeekdayHourMean(WARD_OFFICE), SeasonalNaive(WARD_OFFICE))
    for model in models:
        predicted = model.fit(train).predict(index)
        closed = ~WARD_OFFICE.is_open(index)
        assert (predicted[closed] == 0).all().all()
        assert predicted.loc["2025-05-05"].eq(0).all().all()  # こどもの日
        assert (predicted.loc[~closed, "mean"] > 0).all()


def test_seasonal_naive_repeats_last_week() -> None:
    train = one_series("2025-01-06", 28)
    index = pd.date_range("2025-02-03", periods=24 * 14, freq="h")
    predicted = SeasonalNaive(WARD_OFFICE).fit(train).predict(index)["mean"]
    last_week = train.set_index("hour_start")["count"].loc["2025-01-27":"2025-02-02"]
    assert predicted.iloc[: 24 * 7].to_numpy() == pytest.approx(last_week.to_numpy())
    # The second week repeats it too, except on 建国記念の日 (Tue 2/11), which is closed.
    second = predicted.iloc[24 * 7 :]
    expected = np.where(WARD_OFFICE.is_open(pd.DatetimeIndex(second.index)), last_week, 0.0)
    assert second.to_numpy() == pytest.approx(expected)


@pytest.mark.parametrize(("name", "per_hour"), [("glm", 12.0), ("mean", 12.0), ("glm", 0.8)])
def test_intervals_cover_simulated_poisson_counts(name: str, per_hour: float) -> None:
    """At 0.8 arrivals an hour (one counter's service) no integer interval holds 80 %: the
    GLM's still cover 80 % of the hours, some narrower and some wider."""
    inside80, inside95, n = 0, 0, 0
    for seed in range(4):
        # Pure weekday × hour Poisson counts: the baseline too is then a correct model.
        frame = one_series(
            "2025-01-06", 126, mean_per_hour=per_hour, seed=seed, calendar_effects=False
        )
        hours = pd.DatetimeIndex(frame["hour_start"])
        train, test = frame[hours < "2025-04-28"], frame[hours >= "2025-04-28"]
        model = CalendarGLM(WARD_OFFICE) if name == "glm" else WeekdayHourMean(WARD_OFFICE)
        predicted = model.fit(train).predict(pd.DatetimeIndex(test["hour_start"]))
        is_open = WARD_OFFICE.is_open(pd.DatetimeIndex(test["hour_start"]))
        y = test["count"].to_numpy()[is_open]
        p = predicted[is_open]
        inside80 += int(((y >= p["lo80"]) & (y <= p["hi80"])).sum())
        inside95 += int(((y >= p["lo95"]) & (y <= p["hi95"])).sum())
        n += len(y)
    assert inside80 / n == pytest.approx(0.80, abs=0.05)
    assert inside95 / n == pytest.approx(0.95, abs=0.03)


def test_count_interval_is_nominal_on_average() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(2.0, 40.0, 20_000)
    y = rng.poisson(mean)
    lo, hi = count_interval(mean, 0.0, 0.8)
    assert np.mean((y >= lo) & (y <= hi)) == pytest.approx(0.8, abs=0.02)
    wide_lo, wide_hi = count_interval(mean, 0.2, 0.8)
    assert (wide_hi - wide_lo >= hi - lo).all()


def test_predict_before_fit_and_bad_frames_raise() -> None:
    with pytest.raises(ModelError, match="before fit"):
        WeekdayHourMean(WARD_OFFICE).predict(next_weeks("2025-01-06"))
    with pytest.raises(DataError, match="hour_start and count"):
        WeekdayHourMean(WARD_OFFICE).fit(pd.DataFrame({"count": [1]}))
    doubled = pd.concat([one_series(days=7), one_series(days=7)])
    with pytest.raises(DataError, match="one series"):
        WeekdayHourMean(WARD_OFFICE).fit(doubled)


def test_the_history_starts_with_the_first_arrival() -> None:
    frame = went_live()
    model = WeekdayHourMean(WARD_OFFICE, weeks=52).fit(frame)
    # The empty weeks before going live do not dilute the mean.
    assert model.predict(pd.DatetimeIndex(["2026-11-24 09:00"]))["mean"].iloc[0] == 6.0
    # A series without one arrival keeps its (empty) history: a forecast of zero.
    empty = WeekdayHourMean(WARD_OFFICE).fit(frame.assign(count=0))
    assert empty.predict(pd.DatetimeIndex(["2026-11-24 09:00"]))["mean"].iloc[0] == 0.0
