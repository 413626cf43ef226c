"""What the wait estimator learns from the past: service times, leavers, priority arrivals, and
the realised waits that calibrate its simulation (docs/estimates.md, "Model").

`QueueHistory` is fed as things happen (by the server, or by `madoguchi estimate replay` from a
log) and only ever holds what was known at the time.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

_Z90 = 1.2815515655446004  # standard normal 90th percentile

#: Calibration: a ticket's *position score* (simulated wait + weights × recent delays, minutes)
#: falls into one of these bins; each bin keeps the realised waits of the last `CAL_KEEP`
#: tickets of the same service and priority class that had a score in it. Above 14 minutes
#: the edges double, up to waits of hours (a ward office in the moving season): with 14 as the
#: last edge, every longer wait fell into one bin and got its median (benchmarks.md).
CAL_EDGES = (
    0.0, 0.05, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0, 14.0, 28.0, 56.0, 112.0, 224.0,
)
CAL_KEEP = 300
#: From this edge on the bins double: above the highest usable bin, if it starts here or
#: higher, the waits are taken to grow in proportion to the score (below it, a wait of a few
#: minutes is not proportional to its score: the walk to the counter is not).
PROPORTIONAL_FROM = 14.0
#: A bin is used once it holds this many realised waits.
CAL_MIN = 30
#: Weights of the head-of-line wait and of the last realised wait in the position score.
HOL_WEIGHT = 1.5
LES_WEIGHT = 0.5
#: The last realised wait counts half after this many minutes (yesterday's says nothing).
LES_HALF_LIFE_MINUTES = 30.0
#: Nominal coverage of the range.
COVERAGE = 0.8


class Band(NamedTuple):
    """10th percentile, median, mean and upper end of an 80 % range, minutes."""

    low: float
    median: float
    mean: float
    high: float


def gamma_quantile(mean: float, variance: float, z: float) -> float:
    """Wilson–Hilferty: the gamma quantile at normal score `z`, without scipy in the core."""
    shape = mean**2 / variance
    c = 1 / (9 * shape)
    return max(0.0, mean * (1 - c + z * math.sqrt(c)) ** 3)


def gamma_band(mean: float, variance: float) -> Band:
    if mean <= 0:
        return Band(0.0, 0.0, 0.0, 0.0)
    return Band(gamma_quantile(mean, variance, -_Z90), gamma_quantile(mean, variance, 0.0),
                mean, gamma_quantile(mean, variance, _Z90))


def _empirical_band(values: Sequence[float]) -> Band:
    """p10, median and mean, and the end of the 80 % range that starts at p10.

    Waits have a point mass at zero: when p10 is 0, [0, p80] is the 80 % range, not [0, p90].
    """
    s = sorted(values)
    n = len(s)

    def q(p: float) -> float:
        k = p * (n - 1)
        lo = int(k)
        hi = min(lo + 1, n - 1)
        return s[lo] + (s[hi] - s[lo]) * (k - lo)

    low = q((1 - COVERAGE) / 2)
    below = bisect.bisect_left(s, low) / n
    return Band(low, q(0.5), sum(s) / n, q(min(1.0, below + COVERAGE)))


_UNBOUNDED_BELOW = Band(-math.inf, -math.inf, -math.inf, -math.inf)
_UNBOUNDED_ABOVE = Band(math.inf, math.inf, math.inf, math.inf)


class _Calibration:
    """Realised waits per score bin for one service and priority class.

    `band(score, model)` is nondecreasing in `score` and in `model` (the simulation's own band):
    in a usable bin (`CAL_MIN` waits) the running maximum over the usable bins up to it; in any
    other bin the model's band clamped between the nearest usable bins below and above (so
    min(model, lowest usable) below them all and max(model, highest usable) above them),
    except above a highest usable bin among the doubling ones (`PROPORTIONAL_FROM`): there
    that bin's band times the score over the bin's mean score, not the model, which carries
    its own error there (a registry desk the simulation overestimates fivefold).
    """

    def __init__(self) -> None:
        self._bins: dict[int, deque[tuple[float, float]]] = {}  # (score, wait) per bin
        self._steps: list[tuple[int, Band]] | None = None  # (bin, running max) per usable bin
        self._step_bins: list[int] = []  # the bins of `_steps`, for bisection
        #: The highest usable bin's band per minute of its mean score, if it is a doubling bin
        #: (built with the steps: scores above it take this times their score).
        self._per_score: Band | None = None

    def add(self, score: float, minutes: float) -> None:
        b = bisect.bisect_left(CAL_EDGES, score)
        self._bins.setdefault(b, deque(maxlen=CAL_KEEP)).append((score, max(0.0, minutes)))
        self._steps = None

    def steps(self) -> list[tuple[int, Band]]:
        if self._steps is None:
            steps: list[tuple[int, Band]] = []
            for b in sorted(self._bins):
                if len(self._bins[b]) < CAL_MIN:
                    continue
                band = _empirical_band([wait for _, wait in self._bins[b]])
                if steps:
                    band = Band(*(max(x, y) for x, y in zip(band, steps[-1][1], strict=True)))
                steps.append((b, band))
            self._steps, self._step_bins, self._per_score = steps, [b for b, _ in steps], None
            if steps and steps[-1][0] > 0 and CAL_EDGES[steps[-1][0] - 1] >= PROPORTIONAL_FROM:
                top, top_band = steps[-1]
                mean_score = sum(s for s, _ in self._bins[top]) / len(self._bins[top])
                self._per_score = Band(*(x / mean_score for x in top_band))
        return self._steps

    def band(self, score: float, model: Band) -> Band:
        steps = self.steps()
        if not steps:
            return model
        b = bisect.bisect_left(CAL_EDGES, score)
        i = bisect.bisect_right(self._step_bins, b)  # usable bins at or below b
        if i and steps[i - 1][0] == b:
            return steps[i - 1][1]
        if i == len(steps) and self._per_score is not None:
            return Band(*(x * score for x in self._per_score))
        # A bin without enough waits between usable ones (a few weeks of a quiet service): a
        # wait of 5 minutes must not take the band of the waits of 0 just below it.
        floor = steps[i - 1][1] if i else _UNBOUNDED_BELOW
        ceiling = steps[i][1] if i < len(steps) else _UNBOUNDED_ABOVE
        return Band(*(
            min(max(x, lo), hi) for x, lo, hi in zip(model, floor, ceiling, strict=True)
        ))


class _Summary(NamedTuple):
    total: float  # sum of weights
    mean: float  # winsorised
    second: float  # winsorised second moment
    values: np.ndarray  # sorted
    tail_w: np.ndarray  # tail_w[i]: weight of values[i:]
    tail_xw: np.ndarray  # weighted sum of values[i:]


class _Durations:
    """Service durations of one service: weights halve every `half_life` newer observations."""

    def __init__(self, keep: int, half_life: float) -> None:
        self._samples: deque[float] = deque(maxlen=keep)
        self._half_life = half_life
        self._summary: _Summary | None = None
        self.last_at: dt.datetime | None = None

    def add(self, minutes: float, at: dt.datetime) -> None:
        self._samples.append(max(0.0, minutes))
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        self._summary = None

    def summary(self) -> _Summary:
        """Cached until the next observation: services end far less often than estimates run
        (a replay still recomputes it after every service end, hence numpy)."""
        if self._summary is None:
            # A copy first, in one C call: the server feeds a site's history in one thread
            # while others read it, and a deque changed during a longer walk over it raises.
            values = np.array(list(self._samples))
            n = len(values)
            weights = 0.5 ** ((n - 1 - np.arange(n)) / self._half_life)
            order = np.argsort(values, kind="stable")
            values, weights = values[order], weights[order]
            cumulative = np.cumsum(weights)
            total = float(cumulative[-1])
            # Winsorise at the weighted 95th percentile: one visitor who needed an hour must not
            # move everyone's estimate, but a slow day must.
            cap = values[min(int(np.searchsorted(cumulative, 0.95 * total)), n - 1)]
            capped = np.minimum(values, cap)
            self._summary = _Summary(
                total=total,
                mean=float(capped @ weights) / total,
                second=float((capped * capped) @ weights) / total,
                values=values,
                tail_w=np.append(np.cumsum(weights[::-1])[::-1], 0.0),
                tail_xw=np.append(np.cumsum((values * weights)[::-1])[::-1], 0.0),
            )
        return self._summary


@dataclass(frozen=True)
class ServiceProfile:
    """What to expect of one service's next tickets: mean and variance of the work, minutes."""

    mean: float
    variance: float
    #: Share of the people in line who leave before their call (cancel, no-show).
    leave_share: float
    #: Priority tickets arriving per minute (they overtake everyone else).
    priority_per_minute: float


@dataclass
class QueueHistory:
    """Recent history per service, fed as things happen and shrunk to defaults when thin.

    The server calls `service_done` with each completed ticket's counter time (call to
    completion), `left_line` once per visit when it ends (served: completed, routed on or
    transferred from a counter; not served: cancelled, no-show, expired), `arrived` for every
    issued ticket and `waited` with each called ticket's realised wait (and the
    `WaitEstimate.score` it was given when issued). The replay does the same from a log of
    visits, where a visitor leaves the line served at the start of service or unserved when
    they give up.
    """

    #: Durations: the newest `half_life_services` completions carry half the weight.
    half_life_services: float = 50.0
    #: Weight of the configured default, in observations (the cold-start prior).
    prior_weight: float = 3.0
    #: Old data fades towards the default with this half-life after the last observation
    #: (a service unused for weeks starts again near its configured time).
    stale_half_life_days: float = 7.0
    #: Leave share and priority arrival rate decay with this half-life of clock time.
    rate_half_life_minutes: float = 60.0
    keep: int = 300
    _durations: dict[str, _Durations] = field(default_factory=dict)
    #: Per service: decayed (left, exits) counts and decayed priority arrivals, with the time
    #: of their last update.
    _exits: dict[str, tuple[float, float, dt.datetime]] = field(default_factory=dict)
    _priority: dict[str, tuple[float, dt.datetime]] = field(default_factory=dict)
    #: Per service and priority: the last realised wait and when it was realised (the call).
    #: A priority ticket overtakes the line, so its wait says little about the others'.
    _last_wait: dict[tuple[str, bool], tuple[float, dt.datetime]] = field(default_factory=dict)
    _calibration: dict[tuple[str, bool], _Calibration] = field(default_factory=dict)

    def service_done(self, service: str, minutes: float, *, at: dt.datetime) -> None:
        durations = self._durations.get(service)
        if durations is None:
            durations = self._durations[service] = _Durations(self.keep, self.half_life_services)
        durations.add(minutes, at)

    def left_line(self, service: str, *, served: bool, at: dt.datetime) -> None:
        left, exits, last = self._exits.get(service, (0.0, 0.0, at))
        decay = self._decay(last, at)
        self._exits[service] = (left * decay + (not served), exits * decay + 1.0, max(last, at))

    def arrived(self, service: str, *, priority: bool, at: dt.datetime) -> None:
        if priority:
            count, last = self._priority.get(service, (0.0, at))
            self._priority[service] = (count * self._decay(last, at) + 1.0, max(last, at))

    def waited(
        self, service: str, minutes: float, *, at: dt.datetime, score: float | None = None,
        priority: bool = False,
    ) -> None:
        """A ticket of `service` was called at `at` after waiting `minutes` since it queued.

        `score` is the `WaitEstimate.score` the ticket was given when it was issued (None if
        not known: then only the last realised wait is updated).
        """
        key = (service, priority)
        last = self._last_wait.get(key)
        if last is None or at >= last[1]:
            self._last_wait[key] = (max(0.0, minutes), at)
        if score is not None:
            calibration = self._calibration.get(key)
            if calibration is None:
                calibration = self._calibration[key] = _Calibration()
            calibration.add(score, minutes)

    def recent_wait(self, service: str, now: dt.datetime, *, priority: bool = False) -> float:
        """The last realised wait of the class, halved every `LES_HALF_LIFE_MINUTES` since."""
        last = self._last_wait.get((service, priority))
        if last is None:
            return 0.0
        minutes = max(0.0, (now - last[1]).total_seconds() / 60)
        return last[0] * 0.5 ** (minutes / LES_HALF_LIFE_MINUTES)

    def calibrated(self, service: str, priority: bool, score: float, model: Band) -> Band:
        calibration = self._calibration.get((service, priority))
        return model if calibration is None else calibration.band(score, model)

    def _decay(self, since: dt.datetime, now: dt.datetime) -> float:
        minutes = max(0.0, (now - since).total_seconds() / 60)
        return 0.5 ** (minutes / self.rate_half_life_minutes)

    def profile(self, service: str, default: float, now: dt.datetime) -> ServiceProfile:
        left, exits, last = self._exits.get(service, (0.0, 0.0, now))
        count, p_last = self._priority.get(service, (0.0, now))
        # A decayed count over a half-life h estimates rate × h / ln 2.
        rate = count * self._decay(p_last, now) * math.log(2) / self.rate_half_life_minutes
        decay = self._decay(last, now)
        # One served pseudo-exit: nobody is assumed to leave at cold start.
        leave = left * decay / (exits * decay + 1.0)
        prior_mean, prior_second = default, 2 * default**2  # exponential-like prior (cv = 1)
        durations = self._durations.get(service)
        if durations is None or durations.last_at is None:
            return ServiceProfile(default, default**2, leave, rate)
        summary = durations.summary()
        days = max(0.0, (now - durations.last_at).total_seconds() / 86400)
        weight = summary.total * 0.5 ** (days / self.stale_half_life_days)
        share = weight / (weight + self.prior_weight)
        blended = share * summary.mean + (1 - share) * prior_mean
        second = share * summary.second + (1 - share) * prior_second
        return ServiceProfile(blended, max(0.0, second - blended**2), leave, rate)

    def residual(self, service: str, elapsed: float, default: float) -> float:
        """Expected minutes left for a ticket in service for `elapsed` minutes."""
        durations = self._durations.get(service)
        if durations is None or durations.last_at is None:
            return default
        summary = durations.summary()
        i = int(np.searchsorted(summary.values, elapsed, side="right"))
        # The prior is an exponential with the default mean, weighted by its survival: a service
        # longer than any seen is expected to need about one more default duration.
        tail = float(summary.tail_w[i])
        prior = self.prior_weight * math.exp(-elapsed / default)
        return (float(summary.tail_xw[i]) - elapsed * tail + prior * default) / (tail + prior)

    @classmethod
    def from_durations(
        cls, minutes: Mapping[str, Sequence[float]], now: dt.datetime
    ) -> QueueHistory:
        """A history from plain lists of recent durations per service, newest last."""
        history = cls()
        for service, values in minutes.items():
            for value in values:
                history.service_done(service, value, at=now)
        return history
