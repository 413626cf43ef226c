from __future__ import annotations

import numpy as np
import pytest

from forecasting.intervals import calibrate_interval, mid_pit, rule_chosen_elsewhere
from forecasting.models import count_interval


def test_mid_pit_agrees_with_count_interval() -> None:
    rng = np.random.default_rng(1)
    mean = rng.gamma(1.0, 5.0, 5000) + 0.01
    alpha = rng.choice([0.0, 1e-4, 0.05, 0.4, 1.2], 5000)
    y = rng.poisson(mean * rng.gamma(2.0, 0.5, 5000))
    pit = mid_pit(y, mean, alpha)
    for level in (0.8, 0.95):
        lo, hi = count_interval(mean, alpha, level)
        tail = (1.0 - level) / 2.0
        assert (((y >= lo) & (y <= hi)) == ((pit >= tail) & (pit <= 1.0 - tail))).all()


def test_interval_calibration_recovers_the_dispersion_of_negative_binomial_counts() -> None:
    rng = np.random.default_rng(5)
    mu = rng.uniform(2.0, 40.0, 20_000)
    for alpha in (0.05, 0.3):
        y = rng.poisson(mu * rng.gamma(1.0 / alpha, alpha, len(mu)))
        for level in (0.8, 0.95):
            found, nominal = calibrate_interval(y, mu, np.zeros(len(mu)), level)
            assert found == pytest.approx(alpha, rel=0.4) and nominal == level


def test_each_calibration_origin_is_scored_by_the_rule_the_others_chose() -> None:
    # Two rules' forecasts at three origins: the first rule fits origins 0 and 1 exactly and
    # misses origin 2 by 20; the second misses 0 and 1 by 3 and fits 2, so it wins overall.
    y = np.array([10.0, 10.0, 10.0])
    forecasts = np.array([[10.0, 10.0, 30.0], [13.0, 13.0, 10.0]])
    origin = np.array([0, 1, 2])
    # Origins 0 and 1: the others (one good, one bad for each rule) pick the second rule by
    # 3 + 0 against 0 + 20; origin 2: origins 0 and 1 pick the first, whose error it gets.
    assert rule_chosen_elsewhere(y, forecasts, origin).tolist() == [13.0, 13.0, 30.0]
    # A single origin keeps the rule it chose itself.
    one = np.zeros(3, dtype=int)
    assert rule_chosen_elsewhere(y, forecasts, one).tolist() == [13.0, 13.0, 10.0]
