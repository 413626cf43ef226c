"""From forecast arrivals to expected waits (Erlang C, M/M/c) and crowding levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from display_server.i18n import Catalog, load_catalog
from forecasting.errors import DataError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "LEVELS",
    "Thresholds",
    "catalog",
    "crowding_levels",
    "expected_wait_min",
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


def expected_wait_min(
    arrivals_per_hour: np.ndarray,
    counters: np.ndarray,
    service_min: np.ndarray | float,
    *,
    cap_min: float = 120.0,
) -> np.ndarray:
    """Mean wait in queue of an M/M/c queue in steady state, per hour.

    When utilisation reaches 1 (or no counter is planned while people arrive) the steady state
    does not exist and the queue grows through the hour; the wait is then `cap_min`, which every
    threshold puts at 大変混雑 — a number, not infinity, so the API and the plot stay readable.
    """
    lam = np.asarray(arrivals_per_hour, dtype=float) / 60.0
    servers = np.asarray(counters, dtype=float)
    service = np.broadcast_to(np.asarray(service_min, dtype=float), lam.shape)
    load = lam * service
    wait = np.zeros(lam.shape)
    stable = (servers > 0) & (load < servers)
    # Erlang B by its stable recursion, then Erlang C: P(wait) = c·B / (c - a·(1 - B)).
    blocking = np.ones(lam.shape)
    for k in range(1, int(servers.max(initial=0)) + 1):
        step = k <= servers
        blocking = np.where(step, load * blocking / (k + load * blocking), blocking)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_wait = servers * blocking / (servers - load * (1.0 - blocking))
        wait = np.where(stable, p_wait * service / (servers - load), cap_min)
    wait = np.where(lam <= 0, 0.0, wait)
    return np.minimum(wait, cap_min)


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
