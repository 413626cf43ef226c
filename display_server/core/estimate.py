"""Wait estimates: people ahead and a range of minutes for each waiting ticket.

Pure: the caller gathers a `QueueState` (waiting tickets, counters, a `QueueHistory` of recent
service times) and asks for estimates at `now`. The server and `madoguchi estimate replay` feed
the history the same way, so the replay measures what the lobby screen shows.

The model is a small deterministic simulation of the open counters: each becomes free after the
expected *residual* time of the ticket in hand, then calls the next ticket exactly as
`rules.choose_next` would (priority, place in line, work profile and policy), taking the expected
work of that ticket. Spread comes from the service-time variance of the jobs a counter works
through before the ticket, shared among the open counters, plus a model-error term; the 10th
and 90th percentiles are those of a gamma distribution with that mean and variance.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from display_server.config import Counter
from display_server.core.counters import CounterStatus
from display_server.core.rules import ahead_of
from display_server.core.tickets import Ticket, TicketStatus

_Z90 = 1.2815515655446004  # standard normal 90th percentile
#: Relative model error (sd / mean) on top of service-time noise: counters pausing, walk-ups,
#: arrivals that jump ahead. Tuned on January 1999 of the anonbank replay (docs/estimates.md).
MODEL_ERROR = float(__import__("os").environ.get("ME", "0.3"))
#: Priority arrivals can use at most this share of the counters (keeps the inflation finite).
_MAX_PRIORITY_LOAD = 0.5
_FALLBACK_DEFAULT_MINUTES = 10.0
_Key = tuple[bool, dt.datetime, int]


@dataclass(frozen=True)
class WaitEstimate:
    ahead: int
    #: None when no counter serving the service is open: the wait cannot be estimated.
    minutes_min: int | None
    minutes_max: int | None
    #: Unrounded expected (mean) wait, median and 10th / 90th percentiles, in minutes.
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    median: float | None = None

    @property
    def no_open_counter(self) -> bool:
        return self.minutes_min is None


@dataclass(frozen=True)
class CounterView:
    """A counter as the estimator sees it: its work profile, state and the ticket in hand."""

    config: Counter
    status: CounterStatus
    current: Ticket | None = None


class _Summary(NamedTuple):
    total: float  # sum of weights
    mean: float  # winsorised
    second: float  # winsorised second moment
    values: list[float]  # sorted
    tail_w: list[float]  # tail_w[i]: weight of values[i:]
    tail_xw: list[float]  # weighted sum of values[i:]


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
        """Cached until the next observation: services end far less often than estimates run."""
        if self._summary is None:
            n = len(self._samples)
            pairs = sorted(
                (x, 0.5 ** ((n - 1 - i) / self._half_life)) for i, x in enumerate(self._samples)
            )
            total = sum(w for _, w in pairs)
            # Winsorise at the weighted 95th percentile: one visitor who needed an hour must not
            # move everyone's estimate, but a slow day must.
            acc, cap = 0.0, pairs[-1][0]
            for x, w in pairs:
                acc += w
                if acc >= 0.95 * total:
                    cap = x
                    break
            mean = sum(min(x, cap) * w for x, w in pairs) / total
            second = sum(min(x, cap) ** 2 * w for x, w in pairs) / total
            tail_w, tail_xw = [0.0] * (n + 1), [0.0] * (n + 1)
            for i in range(n - 1, -1, -1):
                x, w = pairs[i]
                tail_w[i], tail_xw[i] = tail_w[i + 1] + w, tail_xw[i + 1] + x * w
            self._summary = _Summary(total, mean, second, [x for x, _ in pairs], tail_w, tail_xw)
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
    completion), `left_line` when a ticket leaves the line (called, or cancelled / no-show) and
    `arrived` for every issued ticket; the replay does the same from a visits log.
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
        i = bisect.bisect_right(summary.values, elapsed)
        # The prior is an exponential with the default mean, weighted by its survival: a service
        # longer than any seen is expected to need about one more default duration.
        tail = summary.tail_w[i]
        prior = self.prior_weight * math.exp(-elapsed / default)
        return (summary.tail_xw[i] - elapsed * tail + prior * default) / (tail + prior)

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


@dataclass(frozen=True)
class QueueState:
    """Everything known about one site at one moment."""

    waiting: Sequence[Ticket]
    counters: Sequence[CounterView]
    #: Recent service durations in minutes per service, newest last (used when `history` is None).
    service_minutes: Mapping[str, Sequence[float]]
    #: Configured service time per service, used until enough have been observed.
    default_minutes: Mapping[str, float]
    history: QueueHistory | None = None


#: Id of a hypothetical ticket (not yet issued, or anonymous people ahead): after any real one.
_NEW = 2**62
_Job = tuple[_Key, int]  # (queue key, ticket id)


def _job(ticket: Ticket) -> _Job:
    return ticket.queue_key(), ticket.id


def _simulate(
    state: QueueState, lines: dict[str, list[_Job]], now: dt.datetime, stop: int | None
) -> tuple[dict[int, tuple[float, float]], dict[str, ServiceProfile]]:
    """Start time and accumulated variance (minutes) of each job, until `stop` is called.

    `lines` must be sorted by queue key. Counters call exactly as `rules.choose_next` does.
    """
    history = state.history or QueueHistory.from_durations(state.service_minutes, now)
    default = {s: state.default_minutes.get(s, _FALLBACK_DEFAULT_MINUTES) for s in lines}
    profiles = {s: history.profile(s, default[s], now) for s in lines}
    counters = [v for v in state.counters if v.status is CounterStatus.OPEN]
    servers = {s: sum(1 for v in counters if s in v.config.services) for s in lines}
    residuals: list[tuple[float, int]] = []
    for j, view in enumerate(counters):
        if view.current is not None:
            since = view.current.called_at or view.current.started_at or now
            elapsed = max(0.0, (now - since).total_seconds() / 60)
            service = view.current.service
            fallback = state.default_minutes.get(service, _FALLBACK_DEFAULT_MINUTES)
            residuals.append((max(history.residual(service, elapsed, fallback), 1e-6), j))
    # Busy counters free up one by one at the expected order statistics of their residuals
    # (taken as memoryless): with c busy, the first is free after about residual / c, not after
    # the smallest expected residual, which a plain deterministic simulation would say.
    heap = [(0.0, j) for j, view in enumerate(counters) if view.current is None]
    first_var = [0.0] * len(counters)
    hazard, at, var = sum(1 / r for r, _ in residuals), 0.0, 0.0
    for r, j in sorted(residuals):
        at, var = at + 1 / hazard, var + 1 / hazard**2
        heap.append((at, j))
        first_var[j] = var
        hazard = max(hazard - 1 / r, 1e-9)
    heapq.heapify(heap)
    work_var = [0.0] * len(counters)
    heads = dict.fromkeys(lines, 0)
    starts: dict[int, tuple[float, float]] = {}
    while heap:
        free, j = heapq.heappop(heap)
        config = counters[j].config
        ready = [s for s in config.services if heads.get(s, 0) < len(lines.get(s, ()))]
        if not ready:
            continue  # nothing left this counter may call: it drops out
        if config.policy == "strict_order":
            service = ready[0]
        else:
            service = min(ready, key=lambda s: lines[s][heads[s]][0])
        _, ticket_id = lines[service][heads[service]]
        heads[service] += 1
        # Work done before the ticket spreads over the counters (renewal CLT: var / c).
        starts[ticket_id] = (free, first_var[j] + work_var[j] / max(1, servers[service]))
        if ticket_id == stop:
            break
        # People ahead may leave before their call: count their expected work only.
        p = profiles[service]
        stays = 1.0 - p.leave_share
        heapq.heappush(heap, (free + stays * p.mean, j))
        work_var[j] += stays * p.variance + p.leave_share * stays * p.mean**2
    return starts, profiles


def _finish(
    state: QueueState, service: str, ahead: int, start: tuple[float, float] | None,
    profile: ServiceProfile, priority: bool,
) -> WaitEstimate:
    """Round a simulated start into an estimate with its 10–90 % range."""
    if start is None:
        return WaitEstimate(ahead=ahead, minutes_min=None, minutes_max=None)
    servers = sum(
        1 for v in state.counters
        if v.status is CounterStatus.OPEN and service in v.config.services
    )
    mean, variance = start
    if not priority:
        # Priority tickets that arrive while this one waits are called first (M/G/c fluid).
        load = min(profile.priority_per_minute * profile.mean / max(1, servers), _MAX_PRIORITY_LOAD)
        mean, variance = mean / (1 - load), variance / (1 - load) ** 2
    if mean <= 0:
        return WaitEstimate(ahead, 0, 0, 0.0, 0.0, 0.0, 0.0)
    variance += (MODEL_ERROR * mean) ** 2
    low, high = _gamma_quantile(mean, variance, -_Z90), _gamma_quantile(mean, variance, _Z90)
    median = _gamma_quantile(mean, variance, 0.0)
    return WaitEstimate(ahead, math.floor(low), max(math.ceil(high), 1), mean, low, high, median)


def _gamma_quantile(mean: float, variance: float, z: float) -> float:
    """Wilson–Hilferty: the gamma quantile at normal score `z`, without scipy in the core."""
    shape = mean**2 / variance
    c = 1 / (9 * shape)
    return max(0.0, mean * (1 - c + z * math.sqrt(c)) ** 3)


def _lines(waiting: Iterable[Ticket], *, skip: str | None = None) -> dict[str, list[_Job]]:
    lines: dict[str, list[_Job]] = {}
    for ticket in waiting:
        if ticket.status is TicketStatus.WAITING and ticket.service != skip:
            lines.setdefault(ticket.service, []).append(_job(ticket))
    for line in lines.values():
        line.sort()
    return lines


def _estimate_job(
    state: QueueState, lines: dict[str, list[_Job]], service: str, job: _Job, ahead: int,
    now: dt.datetime,
) -> WaitEstimate:
    lines.setdefault(service, [])
    starts, profiles = _simulate(state, lines, now, stop=job[1])
    return _finish(state, service, ahead, starts.get(job[1]), profiles[service], not job[0][0])


def estimate_for(state: QueueState, *, service: str, ahead: int, now: dt.datetime) -> WaitEstimate:
    """The estimate for someone with `ahead` people before them in `service`'s line.

    The line is taken as `ahead` ordinary tickets issued now; other services' lines are real.
    """
    lines = _lines(state.waiting, skip=service)
    key: _Key = (True, now, _NEW)
    lines[service] = [((True, now, _NEW - ahead + i), _NEW - ahead + i) for i in range(ahead)]
    lines[service].append((key, _NEW))
    return _estimate_job(state, lines, service, (key, _NEW), ahead, now)


def estimate_ticket(state: QueueState, ticket: Ticket, *, now: dt.datetime) -> WaitEstimate:
    """The estimate for one waiting ticket (zero once it has been called)."""
    if ticket.status is not TicketStatus.WAITING:
        return WaitEstimate(0, 0, 0, 0.0, 0.0, 0.0, 0.0)
    lines = _lines(state.waiting)
    if ticket.id not in {i for _, i in lines.get(ticket.service, ())}:
        lines.setdefault(ticket.service, []).append(_job(ticket))
        lines[ticket.service].sort()
    ahead = ahead_of(ticket, state.waiting)
    return _estimate_job(state, lines, ticket.service, _job(ticket), ahead, now)


def estimate_new(state: QueueState, *, service: str, now: dt.datetime) -> WaitEstimate:
    """What a ticket taken now for `service` should expect (shown before issuing)."""
    lines = _lines(state.waiting)
    job: _Job = ((True, now, _NEW), _NEW)
    ahead = len(lines.get(service, ()))
    lines.setdefault(service, []).append(job)
    return _estimate_job(state, lines, service, job, ahead, now)


def estimate_all(state: QueueState, *, now: dt.datetime) -> dict[int, WaitEstimate]:
    """Estimates for every waiting ticket at once, in one simulation (what the hub refreshes)."""
    lines = _lines(state.waiting)
    starts, profiles = _simulate(state, lines, now, stop=None)
    return {
        job[1]: _finish(
            state, service, ahead, starts.get(job[1]), profiles[service], not job[0][0]
        )
        for service, line in lines.items()
        for ahead, job in enumerate(line)
    }
