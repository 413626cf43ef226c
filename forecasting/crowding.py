"""From forecast arrivals to expected waits (M/M/c through the day) and crowding levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from display_server.i18n import Catalog, load_catalog
from forecasting.errors import DataError

__all__ = [
    "CAP_MIN",
    "DEFAULT_THRESHOLDS",
    "LEVELS",
    "Thresholds",
    "catalog",
    "crowding_levels",
    "day_waits_min",
]

#: Level ids, quietest first; display texts are `level.<id>` in the message catalogue.
LEVELS = ("quiet", "moderate", "busy", "very_busy")
LOCALES = Path(__file__).parent / "locales"


@dataclass(frozen=True)
class Thresholds:
    """Waits (minutes) from which a level applies: やや混雑 ≥ 15, 混雑 ≥ 30, 大変混雑 ≥ 60."""

    moderate: float = 15.0
    busy: float = 30.0
    very_busy: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.moderate < self.busy < self.very_busy:
            raise DataError(
                "crowding thresholds must be increasing and positive, "
                f"got {self.moderate}/{self.busy}/{self.very_busy}"
            )

    @classmethod
    def from_sequence(cls, minutes: Sequence[float]) -> Thresholds:
        """From the configuration's ``level_thresholds_min = [15, 30, 60]``."""
        if len(minutes) != 3:
            raise DataError(f"expected three thresholds in minutes, got {list(minutes)}")
        return cls(*(float(m) for m in minutes))


#: The longest hourly wait given, and the wait of one who finds people and no counter: every
#: threshold puts it at 大変混雑, and a number keeps the API and the plot readable.
CAP_MIN = 120.0
#: Queue-days integrated together: sorted by size, so that a small queue's days are not carried
#: at a large one's truncation and step.
_CHUNK_DAYS = 64


def day_waits_min(
    arrivals_per_hour: np.ndarray,
    counters: np.ndarray,
    service_min: np.ndarray,
    *,
    cap_min: float = CAP_MIN,
) -> np.ndarray:
    """Mean wait in queue of each hour's arrivals, for days that start with nobody waiting.

    Rows are days of one queue each, columns the day's hours in order (an hour without
    arrivals and with the previous hour's counters for a closed hour in between). Within an
    hour arrivals are Poisson at the hour's rate and the hour's counters serve exponential
    times (M/M/c); the distribution of the number of people present is carried from hour to
    hour by the forward equations, so the queue an overloaded morning leaves lengthens the
    waits after it. (An Erlang C wait per hour, a steady state in every hour, put a ward
    office's Monday noon at 空いています while its morning's queue was still being served.)
    An arrival who finds n ≥ c people present waits for n − c + 1 departures at the rate of c
    counters (`cap_min` with no counter); the hour's wait is the mean over the hour, capped at
    `cap_min`.
    """
    lam = np.asarray(arrivals_per_hour, dtype=float) / 60.0
    servers = np.asarray(counters, dtype=float)
    service = np.asarray(service_min, dtype=float)
    if not lam.shape == servers.shape == service.shape or lam.ndim != 2:
        raise DataError("arrivals, counters and service times must be days × hours arrays")
    with np.errstate(divide="ignore"):
        mu = np.where(service > 0, 1.0 / service, 0.0)
    waits = np.zeros(lam.shape)
    day_totals = lam.sum(axis=1) * 60.0
    order = np.argsort(day_totals, kind="stable")
    for start in range(0, len(order), _CHUNK_DAYS):
        rows = order[start : start + _CHUNK_DAYS]
        waits[rows] = _integrate(lam[rows], servers[rows], mu[rows], day_totals[rows], cap_min)
    return waits


def _integrate(
    lam: np.ndarray, servers: np.ndarray, mu: np.ndarray, totals: np.ndarray, cap_min: float
) -> np.ndarray:
    """`day_waits_min` for one chunk of days: explicit steps of at most one expected event.

    A step of `dt` with `dt` × (arrival + service rate) ≤ 1 is the uniformised chain's step: its
    distribution stays a distribution, and its steady state is exactly the queue's.
    """
    # Nobody can be present beyond the day's arrivals: truncate far in its Poisson tail.
    most = float(totals.max(initial=0.0))
    present = np.arange(int(np.ceil(most + 8.0 * np.sqrt(most) + 10.0)) + 1, dtype=float)
    p = np.zeros((len(lam), len(present)))
    p[:, 0] = 1.0
    waits = np.zeros(lam.shape)
    for hour in range(lam.shape[1]):
        rate, c, m = lam[:, hour, None], servers[:, hour, None], mu[:, hour, None]
        births = np.broadcast_to(rate, p.shape).copy()
        births[:, -1] = 0.0
        deaths = np.minimum(present, c) * m
        capacity = c * m
        with np.errstate(divide="ignore", invalid="ignore"):
            wait_if = np.where(
                present >= c,
                np.where(capacity > 0, (present - c + 1.0) / capacity, cap_min),
                0.0,
            )
        steps = max(1, int(np.ceil(60.0 * float((births[:, 0] + deaths[:, -1]).max()))))
        dt = 60.0 / steps
        seen = (p * wait_if).sum(axis=1)
        total = seen / 2.0  # the trapezoid rule over the hour's steps
        for _ in range(steps):
            flow_up, flow_down = p * births * dt, p * deaths * dt
            p = p - flow_up - flow_down
            p[:, 1:] += flow_up[:, :-1]
            p[:, :-1] += flow_down[:, 1:]
            seen = (p * wait_if).sum(axis=1)
            total += seen
        total -= seen / 2.0
        waits[:, hour] = np.where(lam[:, hour] > 0, np.minimum(total / steps, cap_min), 0.0)
    return waits


DEFAULT_THRESHOLDS = Thresholds()


def crowding_levels(
    wait_min: np.ndarray, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> np.ndarray:
    """Level id of each wait (see `LEVELS`)."""
    edges = [thresholds.moderate, thresholds.busy, thresholds.very_busy]
    return np.asarray(LEVELS, dtype=object)[np.digitize(np.asarray(wait_min, dtype=float), edges)]


def catalog() -> Catalog:
    """This package's messages (ja, en): `level.<id>`, plot labels."""
    return load_catalog(LOCALES)
