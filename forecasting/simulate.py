"""Simulated ward-office arrivals with known structure, for tests, benchmarks and demos."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import is_jp_holiday
from forecasting.schedule import WARD_OFFICE, OpeningSchedule

__all__ = ["simulate_arrivals", "ward_profile"]

#: Relative arrivals by weekday (Mon busiest after the weekend) and hour (morning peak,
#: lunch dip, afternoon peak), as seen at Japanese resident counters.
WEEKDAY = np.array([1.3, 1.0, 0.95, 1.0, 1.15, 0.0, 0.0])
HOUR = np.zeros(24)
HOUR[8:17] = [0.6, 1.3, 1.4, 1.2, 0.8, 1.0, 1.1, 0.9, 0.6]


def ward_profile(index: pd.DatetimeIndex) -> np.ndarray:
    """Relative weekday × hour intensity (1 = an average open hour)."""
    return WEEKDAY[index.day_of_week] * HOUR[index.hour]


def simulate_arrivals(
    start: str,
    days: int,
    *,
    sites: int = 1,
    services: int = 1,
    mean_per_hour: float = 10.0,
    holiday_factor: float = 1.0,
    calendar_effects: bool = True,
    schedule: OpeningSchedule = WARD_OFFICE,
    seed: int = 0,
    spread: bool = True,
) -> pd.DataFrame:
    """Poisson arrivals ``site, service, hour_start, count`` over `days` whole days.

    The intensity is `mean_per_hour` × weekday × hour profile × calendar effects (month start
    and end +20 %, March 15–April 15 +40 %, unless `calendar_effects` is false;
    `holiday_factor` on Japanese holidays when the schedule opens on them), and zero when the
    schedule is closed. With `spread`, each series' volume is scaled by 0.5–2 so that fitting
    them all is not the same problem repeated; without it every series has `mean_per_hour`.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=24 * days, freq="h")
    days_index = index.normalize()
    intensity = mean_per_hour * ward_profile(index)
    if calendar_effects:
        intensity *= np.where((index.day <= 2) | (index.day >= 27), 1.2, 1.0)
        moving = (index.month == 3) & (index.day >= 15) | (index.month == 4) & (index.day <= 15)
        intensity *= np.where(moving, 1.4, 1.0)
    intensity *= np.where(is_jp_holiday(days_index), holiday_factor, 1.0)
    intensity *= schedule.is_open(index)
    frames = []
    for site in range(sites):
        for service in range(services):
            scale = 0.5 + 1.5 * rng.random() if spread else 1.0
            frames.append(
                pd.DataFrame(
                    {
                        "site": f"site{site + 1:02d}",
                        "service": f"service{service + 1}",
                        "hour_start": index,
                        "count": rng.poisson(intensity * scale),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
