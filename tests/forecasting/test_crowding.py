from __future__ import annotations

import numpy as np
import pytest

from forecasting.crowding import (
    LEVELS,
    Thresholds,
    catalog,
    crowding_levels,
    expected_wait_min,
)
from forecasting.errors import DataError


def test_erlang_c_matches_textbook_values() -> None:
    # M/M/1, λ = 10/h, 5 min service: ρ = 5/6, Wq = ρ/(μ-λ) = 25 min.
    # M/M/3, λ = 30/h, 5 min: a = 2.5, P(wait) = 0.7022, Wq = P·s/(c-a) = 7.02 min.
    wait = expected_wait_min(np.array([10.0, 30.0]), np.array([1, 3]), 5.0)
    assert wait == pytest.approx([25.0, 7.0225], abs=1e-3)


def test_overload_no_counter_and_no_arrivals() -> None:
    wait = expected_wait_min(np.array([12.0, 20.0, 5.0, 0.0]), np.array([1, 1, 0, 0]), 5.0)
    assert wait.tolist() == [120.0, 120.0, 120.0, 0.0]
    capped = expected_wait_min(np.array([11.9]), np.array([1]), 5.0, cap_min=90.0)
    assert capped.tolist() == [90.0]


def test_levels_use_configurable_thresholds() -> None:
    waits = np.array([0.0, 14.9, 15.0, 30.0, 59.0, 60.0, 120.0])
    assert crowding_levels(waits).tolist() == [
        "quiet",
        "quiet",
        "moderate",
        "busy",
        "busy",
        "very_busy",
        "very_busy",
    ]
    strict = Thresholds.from_sequence([5, 10, 20])
    assert crowding_levels(np.array([6.0, 12.0, 25.0]), strict).tolist() == [
        "moderate",
        "busy",
        "very_busy",
    ]


@pytest.mark.parametrize("minutes", [[30, 15, 60], [0, 15, 30], [15, 30]])
def test_bad_thresholds_are_rejected(minutes: list[float]) -> None:
    with pytest.raises(DataError, match="threshold"):
        Thresholds.from_sequence(minutes)


def test_catalogue_has_every_level_in_japanese_and_english() -> None:
    messages = catalog()
    assert [messages.gettext("ja", f"level.{level}") for level in LEVELS] == [
        "空いています",
        "やや混雑",
        "混雑",
        "大変混雑",
    ]
    assert messages.keys("en") == messages.keys("ja")
