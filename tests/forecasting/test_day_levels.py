from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.day_levels import DayLevels


def _day_totals(level: np.ndarray, day_sd: float, seed: int) -> tuple[np.ndarray, ...]:
    """Ages, actual and fitted totals of weekdays (one row per day, the fit 100 a day) whose
    true level is `level` times the fit, with day-to-day lognormal noise `day_sd`."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end="2025-06-27", periods=len(level))
    age = (pd.Timestamp("2025-06-28") - days).to_numpy()
    fitted = np.full(len(level), 100.0)
    actual = rng.poisson(fitted * level * rng.lognormal(-(day_sd**2) / 2, day_sd, len(level)))
    return age, actual.astype(float), fitted


def test_the_local_level_follows_a_lasting_shift_within_days() -> None:
    # Quiet days for half a year, then the level drops to 60 % for the last two weeks.
    for seed in range(4):
        level = np.where(np.arange(130) >= 120, 0.6, 1.0)
        factor = DayLevels.of(*_day_totals(level, 0.05, seed)).factor
        assert factor == pytest.approx(0.6, abs=0.06)


def test_the_local_level_averages_many_days_when_days_are_noisy() -> None:
    # A stationary level with large day-to-day variation: the filtered level must stay nearer
    # the truth than the last week's ratio, which chases the noise.
    filtered, last_week = [], []
    for seed in range(20):
        age, actual, fitted = _day_totals(np.ones(130), 0.3, seed)
        filtered.append(abs(np.log(DayLevels.of(age, actual, fitted).factor)))
        last_week.append(abs(np.log(actual[-5:].sum() / fitted[-5:].sum())))
    assert np.mean(filtered) < 0.5 * np.mean(last_week)
