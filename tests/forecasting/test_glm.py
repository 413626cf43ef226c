from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from forecasting.day_levels import DayLevels
from forecasting.glm import CalendarGLM, GLMCombination, _poisson_irls
from forecasting.models import WeekdayHourMean
from forecasting.schedule import WARD_OFFICE, OpeningSchedule
from forecasting.simulate import ward_profile
from tests.forecasting.helpers import FLAT, next_weeks, one_series, went_live


def _poisson_regression(seed: int) -> tuple[np.ndarray, ...]:
    """A design of twelve one-hot cells and a covariate, observation weights, an offset and
    Poisson counts drawn from it."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 12, 2000)
    x = np.column_stack([np.eye(12)[cells], rng.normal(size=2000)])
    weights, offset = rng.uniform(0.2, 1.0, 2000), rng.normal(0.0, 0.2, 2000)
    y = rng.poisson(np.exp(x @ np.r_[rng.normal(1.5, 0.5, 12), 0.3] + offset))
    return x, y.astype(float), weights, offset


def test_the_irls_fit_is_statsmodels_poisson_glm() -> None:
    # Written out for speed (a sparse design), the fit must be the textbook one: the same
    # coefficients and covariance as statsmodels' GLM with the same weights and offset.
    x, y, weights, offset = _poisson_regression(2)
    params, information = _poisson_irls(x, y, weights, np.zeros((13, 13)), offset)
    reference = sm.GLM(
        y, x, family=sm.families.Poisson(), var_weights=weights, offset=offset
    ).fit()
    assert params == pytest.approx(reference.params, abs=1e-9)
    assert np.linalg.inv(information) == pytest.approx(reference.cov_params(), rel=1e-6)


def test_the_penalised_irls_fit_solves_its_score_equation() -> None:
    # With a prior precision P the mode of the posterior has X'W(y − μ) = P·β.
    x, y, weights, offset = _poisson_regression(3)
    penalty = np.diag(np.random.default_rng(4).uniform(0.0, 50.0, 13))
    params, _ = _poisson_irls(x, y, weights, penalty, offset)
    mu = np.exp(x @ params + offset)
    assert x.T @ (weights * (y - mu)) == pytest.approx(penalty @ params, abs=1e-6)
    assert not np.allclose(params, _poisson_irls(x, y, weights, np.zeros((13, 13)), offset)[0])


#: A ward office that opens on national holidays, so that a holiday effect can be learnt.
OPEN_ON_HOLIDAYS = OpeningSchedule.from_ranges(
    {d: [(8, 17)] for d in range(5)}, closed_on_holidays=False
)


def test_glm_learns_a_holiday_drop() -> None:
    train = one_series(
        "2024-04-01", 364, mean_per_hour=20.0, holiday_factor=0.3, schedule=OPEN_ON_HOLIDAYS
    )
    model = CalendarGLM(OPEN_ON_HOLIDAYS).fit(train)
    holiday = pd.date_range("2025-04-29 08:00", periods=9, freq="h")  # 昭和の日 (Tue)
    ordinary = pd.date_range("2025-05-13 08:00", periods=9, freq="h")  # a Tuesday
    ratio = model.predict(holiday)["mean"].sum() / model.predict(ordinary)["mean"].sum()
    assert 0.2 < ratio < 0.45


def _overdispersed(seed: int, days: int, *, factor_from: str | None = None) -> pd.DataFrame:
    """Weekday × hour counts with gamma day-hour noise (alpha 0.15), optionally halved."""
    frame = one_series("2025-01-06", days, mean_per_hour=12.0, seed=seed, calendar_effects=False)
    rng = np.random.default_rng(100 + seed)
    hours = pd.DatetimeIndex(frame["hour_start"])
    mean = 12.0 * ward_profile(hours) / ward_profile(hours)[ward_profile(hours) > 0].mean()
    if factor_from is not None:
        mean = np.where(hours >= pd.Timestamp(factor_from), mean * 0.5, mean)
    noise = rng.gamma(1.0 / 0.15, 0.15, len(frame))
    return frame.assign(count=rng.poisson(mean * noise).astype(float))


@pytest.mark.parametrize("model", [CalendarGLM, GLMCombination], ids=["glm", "glm_mean"])
def test_glm_intervals_are_calibrated_on_overdispersed_counts(
    model: type[CalendarGLM | GLMCombination],
) -> None:
    # Real counts vary more than Poisson: the rolling-origin calibration must find how much.
    inside80, inside95, n = 0, 0, 0
    for seed in range(3):
        frame = _overdispersed(seed, 126)
        hours = pd.DatetimeIndex(frame["hour_start"])
        train, test = frame[hours < "2025-04-28"], frame[hours >= "2025-04-28"]
        predicted = model(WARD_OFFICE).fit(train).predict(pd.DatetimeIndex(test["hour_start"]))
        is_open = WARD_OFFICE.is_open(pd.DatetimeIndex(test["hour_start"]))
        y, p = test["count"].to_numpy()[is_open], predicted[is_open]
        inside80 += int(((y >= p["lo80"]) & (y <= p["hi80"])).sum())
        inside95 += int(((y >= p["lo95"]) & (y <= p["hi95"])).sum())
        n += len(y)
        assert (p["lo95"] <= p["lo80"]).all() and (p["hi95"] >= p["hi80"]).all()
    assert inside80 / n == pytest.approx(0.80, abs=0.05)
    assert inside95 / n == pytest.approx(0.95, abs=0.03)


def test_glm_mean_is_the_mean_of_the_two_glms() -> None:
    train = _overdispersed(0, 126)
    index = next_weeks("2025-05-12")
    cells = CalendarGLM(WARD_OFFICE, interactions=True).fit(train).predict(index)
    additive = CalendarGLM(WARD_OFFICE, interactions=False).fit(train).predict(index)
    combined = GLMCombination(WARD_OFFICE).fit(train).predict(index)
    assert combined["mean"].to_numpy() == pytest.approx(
        (cells["mean"].to_numpy() + additive["mean"].to_numpy()) / 2.0
    )
    # Its intervals are those of a width between the two GLMs'.
    for column in ("lo80", "hi80", "lo95", "hi95"):
        low = np.minimum(cells[column], additive[column]) - 1.0
        high = np.maximum(cells[column], additive[column]) + 1.0
        assert ((combined[column] >= low) & (combined[column] <= high)).all()


def test_glm_follows_a_lasting_level_shift() -> None:
    # Volume halves four weeks before the end (a reopening at half capacity, say).
    frame = _overdispersed(7, 154, factor_from="2025-04-28")
    hours = pd.DatetimeIndex(frame["hour_start"])
    train, test = frame[hours < "2025-05-26"], frame[hours >= "2025-05-26"]
    index = pd.DatetimeIndex(test["hour_start"])
    is_open = WARD_OFFICE.is_open(index)
    y = test["count"].to_numpy()[is_open]
    glm = CalendarGLM(WARD_OFFICE, interactions=False).fit(train)
    assert glm.level_rule[0] > 0
    glm_mae = np.abs(y - glm.predict(index)["mean"].to_numpy()[is_open]).mean()
    baseline = WeekdayHourMean(WARD_OFFICE).fit(train).predict(index)["mean"].to_numpy()
    assert glm_mae < 0.9 * np.abs(y - baseline[is_open]).mean()


def test_a_fading_level_correction_returns_to_the_fitted_level() -> None:
    # Volume halves two weeks before the end; a fading rule believes it on the first day and
    # half as much a half-life later, an unfading one throughout.
    frame = _overdispersed(3, 140, factor_from="2025-05-12")
    glm = CalendarGLM(WARD_OFFICE, interactions=False).fit(frame)
    monday, next_monday = pd.Timestamp("2025-05-26 10:00"), pd.Timestamp("2025-06-02 10:00")
    index = pd.DatetimeIndex([monday, next_monday])
    glm.level_rule = (0.0, np.inf)
    raw = glm.predict(index)["mean"].to_numpy()
    glm.level_rule = (1.0, 7.0)
    fading = glm.predict(index)["mean"].to_numpy()
    level = fading[0] / raw[0]
    assert level < 0.8
    assert fading[1] / raw[1] == pytest.approx(level**0.5, rel=1e-6)


def test_glm_calibrates_around_a_closure() -> None:
    # Three closed weeks inside the calibration origins (a refurbishment, a lockdown).
    closed = pd.date_range("2025-02-17", "2025-03-09").date
    schedule = OpeningSchedule(WARD_OFFICE.hours, frozenset(closed), closed_on_holidays=True)
    train = one_series("2025-01-06", 84, mean_per_hour=10.0, schedule=schedule)
    predicted = CalendarGLM(schedule).fit(train).predict(next_weeks("2025-03-31"))
    is_open = schedule.is_open(pd.DatetimeIndex(predicted.index))
    assert (predicted.loc[is_open, "mean"] > 0).all()
    assert (predicted.loc[is_open, "hi80"] >= predicted.loc[is_open, "lo80"]).all()


def test_generic_day_effects_resting_on_a_few_odd_days_are_shrunk() -> None:
    # A four-week closure, and the reopening day at a fifth of the volume. "After a closure"
    # is otherwise seen only on the days after a few holidays: without the prior, that one
    # day made the effect −16 % and the day after the next holiday 16 % too low.
    closure = pd.date_range("2025-03-03", "2025-03-30").date
    schedule = OpeningSchedule(WARD_OFFICE.hours, frozenset(closure), closed_on_holidays=True)
    frame = one_series(
        "2025-01-06", 182, mean_per_hour=12.0, seed=5, calendar_effects=False, schedule=schedule
    )
    reopening = pd.DatetimeIndex(frame["hour_start"]).normalize() == pd.Timestamp("2025-03-31")
    frame.loc[reopening, "count"] = (frame.loc[reopening, "count"] / 5).round()
    model = CalendarGLM(schedule, "none").fit(frame)
    after_holiday = pd.date_range("2025-07-22 08:00", periods=9, freq="h")  # after 海の日 (7/21)
    ordinary = pd.date_range("2025-07-29 08:00", periods=9, freq="h")  # a Tuesday
    ratio = model.predict(after_holiday)["mean"].sum() / model.predict(ordinary)["mean"].sum()
    assert 0.9 < ratio < 1.1


def test_a_cell_whose_hour_has_moved_follows_its_recent_weeks() -> None:
    # Wednesdays' 10:00 hour loses 90 % of its arrivals four weeks before the end (an opening
    # time that moved with daylight saving, say); the recency weights alone would remember the
    # old level for months, and one spike in another cell must not count as a move.
    frame = one_series("2025-01-06", 154, mean_per_hour=12.0, seed=4, calendar_effects=False)
    hours = pd.DatetimeIndex(frame["hour_start"])
    moved = (hours.day_of_week == 2) & (hours.hour == 10) & (hours >= "2025-05-12")
    spike = hours == pd.Timestamp("2025-05-27 10:00")
    frame.loc[moved, "count"] = np.round(frame.loc[moved, "count"] / 10)
    frame.loc[spike, "count"] *= 10
    glm = CalendarGLM(WARD_OFFICE).fit(frame)
    wednesday = pd.date_range("2025-06-11 08:00", periods=9, freq="h")
    predicted = glm.predict(wednesday)["mean"]
    recent = frame.loc[moved, "count"].mean()
    assert predicted.loc["2025-06-11 10:00"] == pytest.approx(recent, rel=0.35, abs=1.0)
    assert predicted.loc["2025-06-11 11:00"] > 5 * predicted.loc["2025-06-11 10:00"]
    tuesday = glm.predict(pd.DatetimeIndex([pd.Timestamp("2025-06-10 10:00")]))["mean"].iloc[0]
    assert tuesday < 2 * frame.loc[(hours.day_of_week == 1) & (hours.hour == 10), "count"].mean()


@pytest.mark.parametrize("seed", range(4))
def test_no_cell_counts_as_moved_in_a_stationary_series(seed: int) -> None:
    # Chance alone makes a cell look moved with probability ~4·10⁻⁵ (`_cell_shifts`).
    glm = CalendarGLM(WARD_OFFICE).fit(_overdispersed(seed, 154))
    assert glm._fit_result is not None and glm._fit_result.cell_shifts.empty


@pytest.mark.parametrize("interactions", [True, False], ids=["cells", "additive"])
def test_glm_forecasts_a_flat_history_as_it_is_after_going_live(
    interactions: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same pattern on every open day since the server went live ten weeks ago: the level
    # is 1 at every calibration origin, and every open day is forecast as the pattern, the day
    # after 勤労感謝の日 (Mon 2026-11-23) too. The empty year before going live once read as a
    # jump from nothing: levels of 1.3–3.5 and +25 % after the holiday.
    levels: list[float] = []
    factor = DayLevels.factor.fget
    assert factor is not None

    def spy(days: DayLevels) -> float:
        levels.append(factor(days))
        return levels[-1]

    monkeypatch.setattr(DayLevels, "factor", property(spy))
    model = CalendarGLM(WARD_OFFICE, interactions=interactions).fit(went_live())
    assert len(levels) > 1 and np.allclose(levels, 1.0, atol=0.01)
    index = pd.date_range("2026-11-17", "2026-12-01", freq="h")
    predicted = model.predict(index)["mean"]
    is_open = WARD_OFFICE.is_open(index)
    expected = pd.Series(index.hour, index=index).map(FLAT).fillna(0.0)
    assert np.allclose(predicted[is_open], expected[is_open], atol=0.05)
    assert predicted["2026-11-24 09:00"] == pytest.approx(6.0, abs=0.05)


def test_short_days_get_their_own_hour_profile() -> None:
    # A summer timetable without afternoons (13:00–17:00 closed) for six weeks, on which the
    # 8:00 hour draws half as many again (visitors crowd into the morning); the weeks after it
    # are ordinary again. The fit must follow the short days' profile on short days only.
    summer = pd.date_range("2025-06-02", "2025-07-11")
    closed = frozenset(
        pd.Timestamp(day) + pd.Timedelta(hours=h)
        for day in summer
        if day.day_of_week < 5
        for h in range(13, 17)
    )
    schedule = OpeningSchedule(WARD_OFFICE.hours, closed_hours=closed, closed_on_holidays=True)
    index = pd.date_range("2025-01-06", "2025-07-18 23:00", freq="h")
    short = schedule.short_days(index.normalize())
    boost = np.where(short & (index.hour == 8), 1.5, 1.0)
    intensity = 20.0 * ward_profile(index) * boost * schedule.is_open(index)
    counts = np.random.default_rng(11).poisson(intensity)
    frame = pd.DataFrame({"site": "s", "service": "a", "hour_start": index, "count": counts})
    glm = CalendarGLM(schedule, "none").fit(frame[index < "2025-07-08"])
    ahead = pd.DatetimeIndex(["2025-07-09 08:00", "2025-07-09 09:00", "2025-07-16 08:00"])
    predicted = glm.predict(ahead)["mean"].to_numpy()
    truth = 20.0 * ward_profile(ahead) * np.array([1.5, 1.0, 1.0])
    assert predicted == pytest.approx(truth, rel=0.15)


def _a_short_summer_then_two_short_days() -> tuple[OpeningSchedule, pd.Series]:
    """Every weekday short (afternoons closed) through a summer in which arrivals halve,
    then only Tuesdays and Thursdays short, at the summer's level (Rubí 2020's autumn): the
    schedule, and counts in its open hours from January to the end of October 2025."""
    summer = pd.date_range("2025-07-01", "2025-08-31")
    autumn = pd.date_range("2025-09-01", "2025-10-31")
    closed = frozenset(
        pd.Timestamp(day) + pd.Timedelta(hours=h)
        for day in summer.append(autumn[autumn.day_of_week.isin([1, 3])])
        if day.day_of_week < 5
        for h in range(13, 17)
    )
    schedule = OpeningSchedule(WARD_OFFICE.hours, closed_hours=closed, closed_on_holidays=False)
    index = pd.date_range("2025-01-06", "2025-10-31 23:00", freq="h")
    index = index[schedule.is_open(index)]
    level = np.where(index < "2025-07-01", 20.0, 10.0)
    counts = np.random.default_rng(7).poisson(level * ward_profile(index))
    return schedule, pd.Series(counts, index=index)


def test_a_short_season_keeps_its_level_in_time_not_in_its_short_days() -> None:
    # The short days' hour terms must not take the summer's level with them: the short
    # Tuesday and the full Monday after it are forecast at the same level.
    schedule, counts = _a_short_summer_then_two_short_days()
    counts = counts[counts.index < "2025-10-06"]
    frame = pd.DataFrame(
        {"site": "s", "service": "a", "hour_start": counts.index, "count": counts.to_numpy()}
    )
    glm = CalendarGLM(schedule, "none", interactions=False).fit(frame)
    ahead = pd.DatetimeIndex(["2025-10-06 10:00", "2025-10-07 10:00"])  # Monday, Tuesday
    predicted = glm.predict(ahead)["mean"].to_numpy()
    assert predicted == pytest.approx(10.0 * ward_profile(ahead), rel=0.15)


def test_short_days_free_to_set_a_level_are_compared_within_weeks() -> None:
    # The same summer, without the choice between the two fits: the short days' hour terms
    # left free to set a level too. With a level per week they are compared with the full
    # days of the same weeks only (here none differ), so the summer's halving is the weeks'
    # level, not a short-day effect: a short Tuesday is forecast like a full Monday, relative
    # to the profile. Without weekly levels the free terms put the short Tuesday about a
    # quarter below the Monday.
    schedule, counts = _a_short_summer_then_two_short_days()
    end = pd.Timestamp("2025-10-06")
    glm = CalendarGLM(schedule, "none", interactions=False)
    fit = glm._fit_window(counts[counts.index < end], end, short_level=True)
    ahead = pd.DatetimeIndex(["2025-10-06 10:00", "2025-10-07 10:00"])  # Monday, Tuesday
    mean, _ = glm._mean(fit, ahead, (0.0, np.inf))
    ratio = mean / ward_profile(ahead)
    assert ratio[1] == pytest.approx(ratio[0], rel=0.1)


def test_a_service_whose_empty_days_its_fit_makes_unlikely_is_forecast_as_not_offered() -> None:
    # A queue that stops (renamed, or paused for the summer while the office stays open) is
    # forecast as zero once no arrival since its last one has a Poisson probability below 1 %
    # under its fit: a busy queue after three empty open days (less than the week a fixed
    # rule would wait), but not after a quiet afternoon, nor after a morning so far (no whole
    # open day empty); a queue of a few arrivals a week goes on being forecast after more
    # than a week without any.
    index = next_weeks("2025-03-17")
    for mean_per_hour, empty_from, history_end, paused in (
        (10.0, "2025-03-12", "2025-03-17", True),
        (10.0, "2025-03-14 12:00", "2025-03-17", False),
        (10.0, "2025-03-14", "2025-03-14 11:00", False),
        (0.03, "2025-03-07", "2025-03-17", False),
    ):
        frame = one_series(days=70, mean_per_hour=mean_per_hour)
        hours = pd.DatetimeIndex(frame["hour_start"])
        train = frame.assign(count=frame["count"].where(hours < empty_from, 0))
        train = train[hours < history_end]
        for model in (CalendarGLM(WARD_OFFICE, interactions=False), GLMCombination(WARD_OFFICE)):
            mean = model.fit(train).predict(index)["mean"]
            assert (mean.sum() == 0) == paused
