from __future__ import annotations

import pytest

from forecasting.simulate import simulate_arrivals


def test_series_share_the_mean_without_spread_and_differ_with_it() -> None:
    def totals(*, spread: bool) -> list[int]:
        frame = simulate_arrivals(
            "2025-01-06", 56, services=4, mean_per_hour=20.0, spread=spread, seed=1
        )
        return frame.groupby("service")["count"].sum().tolist()

    # 37 open days (8 weeks less three holidays) × 9 hours × 20: about 7,300 arrivals a series.
    same = totals(spread=False)
    assert max(same) == pytest.approx(min(same), rel=0.05)
    spread = totals(spread=True)
    assert max(spread) > 1.3 * min(spread)
