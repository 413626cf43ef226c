"""Plain helpers for the forecasting tests (no fixtures needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.simulate import simulate_arrivals


def one_series(start: str = "2025-01-06", days: int = 84, **kwargs: object) -> pd.DataFrame:
    """One simulated ward-office series (site01/service1)."""
    return simulate_arrivals(start, days, **kwargs)  # type: ignore[arg-type]


def write_hourly_csv(path: Path, frame: pd.DataFrame) -> Path:
    """The hourly shape of the Arrivals CSV: hour_start,count,service."""
    out = frame.assign(hour_start=frame["hour_start"].dt.strftime("%Y-%m-%dT%H:%M"))
    out[["hour_start", "count", "service"]].to_csv(path, index=False)
    return path
