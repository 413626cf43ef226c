"""The forecast's expected waits from the site's own counters, simulated (issue 5).

`forecasting.fit_all` alone puts the services that share counters into one M/M/c queue whose
counters are interchangeable. A ward office's are not: each counter serves the services of its
work profile, in its own order. On three of the demo's histories that queue left the forecast
waits 4.4 minutes low on average, 9.8 at Shakujii. Here each forecast day is served many times at
the site's counters (`core.serving.serve_day`, the calling rule the server applies), with
Poisson arrivals at the forecast rates spread over each hour's reception window and counter
times drawn from those observed; an hour's wait is the mean over the replications of its
arrivals' waits.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from display_server.config import Site
from display_server.core.serving import serve_day
from forecasting.crowding import CAP_MIN

__all__ = ["CounterSimulation"]

#: Simulated tickets per forecast day (spread over the replications): a quiet day gets more
#: replications than a busy one for the same precision of its hourly means.
TICKETS_PER_DAY = 20000
#: Replications of a day, at least and at most.
MIN_REPLICATIONS, MAX_REPLICATIONS = 24, 400
#: Draws laid out per replication: instants per service and hour, counter times per service.
HOUR_BLOCK, DAY_BLOCK = 32, 256
#: Fewer observed counter times than this and a service's are exponential with its
#: configured mean.
MIN_SERVICE_SAMPLES = 10


@dataclass(frozen=True)
class CounterSimulation:
    """Expected waits per service and hour of one day of `site` (a `forecasting.table.DayWaits`).

    Counters open: the first n of the configuration's order while its plan for the day
    (`Site.counter_plan`, e.g. fewer at lunch) says n, else all, all day. An arrival's counter
    time is drawn from its service's `observed` ones, what each recent visit cost the counters
    (`store.events.visit_counter_minutes`: a no-show its recalls, a visitor who left before the
    call nothing), when there are `MIN_SERVICE_SAMPLES`, else exponential with its
    `default_service_minutes`: real counter times vary less than exponential ones, and queues
    grow with that variance.

    Replication r of every day of the site draws from the same generators (common random
    numbers): its arrivals per hour by inversion of the same uniforms, then its instants and
    counter times. Two days then differ by their forecast arrivals, not by the luck of their
    draws, which the calendar's comparisons of days and hours need; and a forecast is the
    same whichever process computes it.
    """

    site: Site
    observed: Mapping[str, Sequence[float]]

    def __call__(
        self, day: dt.date, hours: Sequence[int], arrivals: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        services = list(arrivals)
        if not services:
            return {}
        means = np.maximum(np.array([arrivals[s] for s in services], dtype=float), 0.0)
        replications = min(
            MAX_REPLICATIONS,
            max(MIN_REPLICATIONS, math.ceil(TICKETS_PER_DAY / max(means.sum(), 1.0))),
        )
        seed = zlib.crc32(self.site.id.encode())
        uniforms = np.random.default_rng([seed, 0]).random((replications, *means.shape))
        counts = _poisson_by_inversion(uniforms, means)
        windows = self._reception_windows(day, hours)
        shifts = _shifts(self.site.counter_plan(day), len(self.site.counters))
        waited, arrived = np.zeros(means.shape), counts.sum(axis=0)
        for replication in range(replications):
            rng = np.random.default_rng([seed, 1, replication])
            hour_of, waits = self._replicate(services, counts[replication], windows, shifts, rng)
            for k in range(len(services)):
                np.add.at(waited[k], hour_of[k], waits[k])
        return {
            service: _hourly_means(waited[k], arrived[k]) for k, service in enumerate(services)
        }

    def _replicate(
        self,
        services: Sequence[str],
        counts: np.ndarray,
        windows: np.ndarray,
        shifts: Sequence[Sequence[tuple[float, float]]] | None,
        rng: np.random.Generator,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One day served, for `counts` arrivals per service and hour (services × windows):
        per service, each arrival's hour (its index in `windows`) and wait.

        The draws are laid out by service and hour in blocks of a fixed size, so that an hour
        with one more arrival leaves the other hours' instants and the other services'
        counter times as they were (common random numbers across days)."""
        spread = rng.random((*counts.shape, max(HOUR_BLOCK, int(counts.max(initial=0)))))
        times, hour_of, drawn = {}, [], {}
        for k, service in enumerate(services):
            hour = np.repeat(np.arange(len(windows)), counts[k])
            nth = np.arange(len(hour)) - np.repeat(np.cumsum(counts[k]) - counts[k], counts[k])
            width = windows[hour, 1] - windows[hour, 0]
            instants = windows[hour, 0] + spread[k, hour, nth] * width
            order = np.argsort(instants, kind="stable")
            times[service] = instants[order].tolist()
            hour_of.append(hour[order])
            drawn[service] = iter(self._counter_times(service, max(DAY_BLOCK, len(hour)), rng))
        turns = serve_day(
            times, self.site.counters, lambda s: next(drawn[s]), opens=float(windows[0, 0]),
            shifts=shifts,
        )
        waits = [
            np.array([
                CAP_MIN if turn is None else turn.called - time
                for time, turn in zip(times[service], turns[service], strict=True)
            ])
            for service in services
        ]
        return hour_of, waits

    def _counter_times(self, service: str, n: int, rng: np.random.Generator) -> list[float]:
        observed = self.observed.get(service, ())
        if len(observed) >= MIN_SERVICE_SAMPLES:
            times: list[float] = rng.choice(np.asarray(observed, dtype=float), n).tolist()
            return times
        configured = self.site.service(service)
        assert configured is not None, "the forecast's series are the site's services"
        exponential: list[float] = rng.exponential(configured.default_service_minutes, n).tolist()
        return exponential

    def _reception_windows(self, day: dt.date, hours: Sequence[int]) -> np.ndarray:
        """Per hour, the minutes (from midnight) in which tickets are taken: the whole hour,
        cut to the day's opening and reception cut-off."""
        starts = np.asarray(hours, dtype=float) * 60.0
        windows = np.column_stack([starts, starts + 60.0])
        opening = self.site.hours_on(day)
        if opening is not None:
            first = opening.open.hour * 60.0 + opening.open.minute
            last = opening.cutoff.hour * 60.0 + opening.cutoff.minute
            cut = np.column_stack([np.maximum(starts, first), np.minimum(starts + 60.0, last)])
            windows = np.where((cut[:, 1] > cut[:, 0])[:, None], cut, windows)
        return windows


def _shifts(
    plan: Sequence[tuple[dt.time, int]] | None, counters: int
) -> list[list[tuple[float, float]]] | None:
    """Each counter's windows (minutes from midnight) under a day's plan: the first n counters
    are open while n are planned; the plan's first count holds from the start of the day."""
    if plan is None:
        return None
    starts = [-math.inf, *(t.hour * 60.0 + t.minute for t, _ in plan[1:])]
    ends = [*starts[1:], math.inf]
    shifts: list[list[tuple[float, float]]] = [[] for _ in range(counters)]
    for start, end, (_, planned) in zip(starts, ends, plan, strict=True):
        for counter in shifts[:planned]:
            if counter and counter[-1][1] == start:
                counter[-1] = (counter[-1][0], end)  # still open: one window
            else:
                counter.append((start, end))
    return shifts


def _poisson_by_inversion(uniforms: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Poisson counts at `means` (services × hours), one per uniform (replications ×
    services × hours): the smallest k whose distribution function reaches the uniform, so a
    larger mean never gives fewer arrivals for the same uniform."""
    most = float(means.max(initial=0.0))
    k = np.arange(int(np.ceil(most + 10.0 * np.sqrt(most) + 10.0)))
    below = poisson.cdf(k, means[..., None])  # services × hours × k
    counts: np.ndarray = (uniforms[..., None] >= below).sum(axis=-1)
    return counts


def _hourly_means(waited: np.ndarray, arrived: np.ndarray) -> np.ndarray:
    """Mean wait per hour, capped at `CAP_MIN`; an hour in which no replication had an arrival
    takes the wait of the hours around it."""
    seen = arrived > 0
    if not seen.any():
        return np.zeros(len(waited))
    means = waited[seen] / arrived[seen]
    positions = np.arange(len(waited))
    return np.minimum(np.interp(positions, positions[seen], means), CAP_MIN)
