"""Plain helpers for the forecasting tests (no fixtures needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.schedule import WARD_OFFICE
from forecasting.simulate import simulate_arrivals


def one_series(start: str = "2025-01-06", days: int = 84, **kwargs: object) -> pd.DataFrame:
    """One simulated ward-office series (site01/service1)."""
    return simulate_arrivals(start, days, **kwargs)  # type: ignore[arg-type]


def write_hourly_csv(path: Path, frame: pd.DataFrame) -> Path:
    """The hourly shape of the Arrivals CSV: hour_start,count,service."""
    out = frame.assign(hour_start=frame["hour_start"].dt.strftime("%Y-%m-%dT%H:%M"))
    out[["hour_start", "count", "service"]].to_csv(path, index=False)
    return path


def next_weeks(start: str, weeks: int = 2) -> pd.DatetimeIndex:
    """`weeks` weeks of hours from `start`."""
    return pd.date_range(start, periods=24 * 7 * weeks, freq="h")


#: Arrivals per hour of a deterministic pattern: a morning peak, a quiet afternoon.
FLAT = {9: 6, 10: 4, 14: 1}


def went_live(weeks: int = 10, end: str = "2026-11-17 10:00") -> pd.DataFrame:
    """A year of hourly counts up to `end` of a server that went live `weeks` weeks before:
    `FLAT` on every open day since (holidays closed), empty hours before."""
    index = pd.date_range(pd.Timestamp(end) - pd.Timedelta(days=365), end, freq="h")[:-1]
    live = index >= pd.Timestamp(end).normalize() - pd.Timedelta(weeks=weeks)
    count = pd.Series(index.hour, index=index).map(FLAT).fillna(0).to_numpy()
    count = np.where(live & WARD_OFFICE.is_open(index), count, 0)
    return pd.DataFrame(
        {"site": "s", "service": "v", "hour_start": index, "count": count.astype(int)}
    )
