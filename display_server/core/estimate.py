"""Wait estimates: people ahead and a range of minutes for each waiting ticket.

Pure: the caller gathers a `QueueState` (waiting tickets, counters, a `QueueHistory` of recent
service times) and asks for estimates at `now`. The server and `madoguchi estimate replay` feed
the history the same way, so the replay measures what the lobby screen shows.

The model is a small deterministic simulation of the open counters: each becomes free after the
expected *residual* time of the ticket in hand, then calls the next ticket by the office's rule
(`rules.service_to_call`: priority, place in line, work profile and policy), taking the expected
work of that ticket. Its clock is that of a pool of memoryless counters. Until realised waits
are known, the range is a gamma distribution with the simulated mean and a variance from the
service times plus a model-error term.

Then the simulation is *calibrated* on realised waits: each estimate carries a position score
(simulated wait + 1.5 × the head of line's wait so far + 0.5 × the last realised wait, the last
only with someone ahead), and the median and 80 % range are those of the realised waits of
recent tickets of the same service and priority class with a score in the same bin, made
monotone over the bins (`estimate_model`). Every input is known at `now`.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from display_server.config import Counter
from display_server.core.counters import CounterStatus
from display_server.core.estimate_model import (
    HOL_WEIGHT,
    LES_WEIGHT,
    QueueHistory,
    ServiceProfile,
    gamma_band,
)
from display_server.core.rules import service_to_call
from display_server.core.tickets import UNSTORED_ID, Ticket, TicketStatus

#: Relative model error (sd / mean) on top of service-time noise: counters pausing, walk-ups,
#: arrivals that jump ahead. Used for the range until realised waits calibrate it (then the
#: range is empirical, `estimate_model`); chosen on January 1999 of the anonbank replay.
MODEL_ERROR = 1.0
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
    #: Position score (simulated wait plus recent delays, minutes): store it with the ticket
    #: and hand it back to `QueueHistory.waited` when the ticket is called (calibration).
    score: float | None = field(default=None, compare=False)
    #: Expected minutes until the last service of the ticket's route ends (`_with_route`);
    #: None for a ticket of one service, or when a service on its way has no open counter.
    route_minutes: float | None = None

    @property
    def no_open_counter(self) -> bool:
        return self.minutes_min is None


@dataclass(frozen=True)
class CounterView:
    """A counter as the estimator sees it: its work profile, state and the ticket in hand."""

    config: Counter
    status: CounterStatus
    current: Ticket | None = None


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

    # Derived once per state: a status asks for an estimate per service from the same state.
    @cached_property
    def lines(self) -> Mapping[str, Sequence[_Job]]:
        """Each service's waiting tickets in call order."""
        lines: dict[str, list[_Job]] = {}
        waiting = TicketStatus.WAITING
        for t in self.waiting:
            if t.status is waiting:  # `_job`, inlined: this loop runs over the whole queue
                lines.setdefault(t.service, []).append(((not t.priority, t.queued_at, t.id), t.id))
        for line in lines.values():
            line.sort()
        return lines

    @cached_property
    def head_waits(self) -> Mapping[str, Sequence[tuple[dt.datetime, int]]]:
        """Per service, the two tickets that have waited longest: (queued_at, id)."""
        heads = {}
        for service, line in self.lines.items():
            # A line is priority tickets, then the others, each part in order of queueing: the
            # two longest waits are among the first two of either part.
            ordinary = next((i for i, (key, _) in enumerate(line) if key[0]), len(line))
            firsts = [*line[:2], *line[ordinary : ordinary + 2]]
            heads[service] = heapq.nsmallest(2, {(key[1], key[2]) for key, _ in firsts})
        return heads


#: Id of a hypothetical ticket (not yet issued, or anonymous people ahead): after any real one.
_NEW = UNSTORED_ID
_Job = tuple[_Key, int]  # (queue key, ticket id)


def _job(ticket: Ticket) -> _Job:
    return ticket.queue_key(), ticket.id


def _history(state: QueueState, now: dt.datetime) -> QueueHistory:
    return state.history or QueueHistory.from_durations(state.service_minutes, now)


def _default(state: QueueState, service: str) -> float:
    """The configured service time, until enough have been observed."""
    return state.default_minutes.get(service, _FALLBACK_DEFAULT_MINUTES)


def _simulate(
    state: QueueState, history: QueueHistory, lines: dict[str, list[_Job]], now: dt.datetime,
    stop: int | None,
) -> tuple[dict[int, float], dict[str, ServiceProfile]]:
    """Expected start (minutes from now) of each job, until `stop` is called.

    `lines` must be sorted by queue key. Counters call by the office's rule (`service_to_call`).
    """
    profiles = {s: history.profile(s, _default(state, s), now) for s in lines}
    counters = [v for v in state.counters if v.status is CounterStatus.OPEN]
    # Time runs as in a pool of memoryless counters: the next one frees after 1 / (sum of the
    # busy counters' completion rates), whichever it is. A plain deterministic simulation would
    # free counters that started together all at once, a whole service time later, and so
    # overestimate the wait several-fold when several counters are open.
    busy: list[tuple[float, int, float]] = []  # (due in the deterministic sense, j, rate)
    for j, view in enumerate(counters):
        if view.current is not None:
            since = view.current.called_at or view.current.started_at or now
            elapsed = max(0.0, (now - since).total_seconds() / 60)
            serving = view.current.service
            left = max(history.residual(serving, elapsed, _default(state, serving)), 1e-6)
            busy.append((left, j, 1 / left))
    heapq.heapify(busy)
    idle = [j for j, view in enumerate(counters) if view.current is None]
    rate, clock, emptied = sum(r for *_, r in busy), 0.0, True
    heads = dict.fromkeys(lines, 0)
    starts: dict[int, float] = {}
    while True:
        for j in idle:
            config = counters[j].config
            service = service_to_call(config, {
                s: lines[s][heads[s]][0]
                for s in config.services if heads.get(s, 0) < len(lines.get(s, ()))
            })
            if service is None:
                continue  # nothing left this counter may call: it drops out
            _, ticket_id = lines[service][heads[service]]
            heads[service] += 1
            emptied = emptied or heads[service] == len(lines[service])
            starts[ticket_id] = clock
            if ticket_id == stop:
                return starts, profiles
            # People ahead may leave before their call: count their expected work only.
            work = max((1.0 - profiles[service].leave_share) * profiles[service].mean, 1e-6)
            heapq.heappush(busy, (clock + work, j, 1 / work))
            rate += 1 / work
        if emptied:
            # Lines only shrink: a counter left with nothing it may call no longer matters, and
            # must not take a turn in the pool (opening such a counter would delay others).
            busy = [x for x in busy if any(
                heads.get(s, 0) < len(lines.get(s, ())) for s in counters[x[1]].config.services
            )]
            heapq.heapify(busy)
            rate, emptied = sum(r for *_, r in busy), False
        if not busy:
            return starts, profiles
        clock += 1 / rate
        _, j, freed = heapq.heappop(busy)
        rate = max(rate - freed, 0.0) if busy else 0.0
        idle = [j]


def _finish(
    state: QueueState, history: QueueHistory, service: str, ahead: int, start: float | None,
    profile: ServiceProfile, priority: bool, hol: float, now: dt.datetime,
) -> WaitEstimate:
    """Turn a simulated start into an estimate with its 80 % range, calibrated when possible."""
    if start is None:
        return WaitEstimate(ahead=ahead, minutes_min=None, minutes_max=None)
    servers = sum(
        1 for v in state.counters
        if v.status is CounterStatus.OPEN and service in v.config.services
    )
    mean = start
    if not priority:
        # Priority tickets that arrive while this one waits are called first (M/G/c fluid).
        load = min(profile.priority_per_minute * profile.mean / servers, _MAX_PRIORITY_LOAD)
        mean /= 1 - load
    # The time for N services at c counters has variance ~ N σ² / c² (renewal CLT) and mean
    # N m / c, so variance ~ mean σ² / (m c); plus the model's own error. c is left out (taken
    # as 1, a wider range) so that the range depends on the mean alone: then it never moves up
    # when the mean moves down, e.g. when another counter opens.
    variance = mean * profile.variance / profile.mean + (MODEL_ERROR * mean) ** 2
    model = gamma_band(mean, variance)
    # Position score: the simulated wait plus how long the line's head has waited and (with
    # someone ahead) the last realised wait. Both are the same for everyone of the service, so
    # the score, like the simulation, grows with the people ahead and shrinks as counters open.
    score = mean + HOL_WEIGHT * hol
    if ahead > 0:
        score += LES_WEIGHT * history.recent_wait(service, now, priority=priority)
    band = history.calibrated(service, priority, score, model)
    if band.high <= 0:
        return WaitEstimate(ahead, 0, 0, 0.0, 0.0, 0.0, 0.0, score)
    return WaitEstimate(
        ahead, math.floor(band.low), max(math.ceil(band.high), 1), band.mean, band.low,
        band.high, band.median, score,
    )


def _hol(state: QueueState, service: str, ticket_id: int, now: dt.datetime) -> float:
    """Minutes the longest-waiting *other* ticket of the service has waited (0: nobody)."""
    for queued_at, other in state.head_waits.get(service, ()):
        if other != ticket_id:
            return max(0.0, (now - queued_at).total_seconds() / 60)
    return 0.0


def _lines(state: QueueState, *, skip: str | None = None) -> dict[str, list[_Job]]:
    """The waiting lines (`QueueState.lines`) as fresh lists the caller may extend."""
    return {service: list(line) for service, line in state.lines.items() if service != skip}


def _estimate_job(
    state: QueueState, lines: dict[str, list[_Job]], service: str, job: _Job, ahead: int,
    now: dt.datetime,
) -> WaitEstimate:
    lines.setdefault(service, [])
    history = _history(state, now)
    starts, profiles = _simulate(state, history, lines, now, stop=job[1])
    hol = _hol(state, service, job[1], now)
    return _finish(state, history, service, ahead, starts.get(job[1]), profiles[service],
                   not job[0][0], hol, now)


def estimate_for(state: QueueState, *, service: str, ahead: int, now: dt.datetime) -> WaitEstimate:
    """The estimate for someone with `ahead` people before them in `service`'s line.

    The line is taken as `ahead` ordinary tickets issued now; other services' lines are real.
    """
    lines = _lines(state, skip=service)
    key: _Key = (True, now, _NEW)
    lines[service] = [((True, now, _NEW - ahead + i), _NEW - ahead + i) for i in range(ahead)]
    lines[service].append((key, _NEW))
    return _estimate_job(state, lines, service, (key, _NEW), ahead, now)


def estimate_ticket(state: QueueState, ticket: Ticket, *, now: dt.datetime) -> WaitEstimate:
    """The estimate for one ticket: its wait while it waits (zero once it has been called), and
    when its route should be through."""
    if ticket.status is not TicketStatus.WAITING:
        return _with_route(state, ticket, WaitEstimate(0, 0, 0, 0.0, 0.0, 0.0, 0.0), now, {})
    lines = _lines(state)
    line, job = lines.setdefault(ticket.service, []), _job(ticket)
    # The line is sorted and ids are unique: the ticket's place is the number ahead of it.
    ahead = bisect.bisect_left(line, job)
    if ahead == len(line) or line[ahead] != job:
        line.insert(ahead, job)
    estimate = _estimate_job(state, lines, ticket.service, job, ahead, now)
    return _with_route(state, ticket, estimate, now, {})


def estimate_new(
    state: QueueState, *, service: str, now: dt.datetime, priority: bool = False
) -> WaitEstimate:
    """What a ticket taken now for `service` should expect (shown before issuing)."""
    lines = _lines(state)
    job: _Job = ((not priority, now, _NEW), _NEW)
    line = lines.setdefault(service, [])
    # A newcomer joins behind everyone of its class (priority tickets lead a line), including
    # tickets queued after `now` when the caller asks for the start of the minute.
    ahead = sum(1 for key, _ in line if not key[0]) if priority else len(line)
    line.insert(ahead, job)
    return _estimate_job(state, lines, service, job, ahead, now)


def estimate_all(state: QueueState, *, now: dt.datetime) -> dict[int, WaitEstimate]:
    """Estimates for every waiting ticket at once, in one simulation (what the hub refreshes)."""
    lines = _lines(state)
    history = _history(state, now)
    starts, profiles = _simulate(state, history, lines, now, stop=None)
    estimates = {
        job[1]: _finish(
            state, history, service, ahead, starts.get(job[1]), profiles[service], not job[0][0],
            _hol(state, service, job[1], now), now,
        )
        for service, line in lines.items()
        for ahead, job in enumerate(line)
    }
    newcomers: dict[tuple[str, bool], WaitEstimate] = {}
    for ticket in state.waiting:
        if ticket.id in estimates:
            estimates[ticket.id] = _with_route(state, ticket, estimates[ticket.id], now, newcomers)
    return estimates


def _with_route(
    state: QueueState, ticket: Ticket, estimate: WaitEstimate, now: dt.datetime,
    newcomers: dict[tuple[str, bool], WaitEstimate],
) -> WaitEstimate:
    """`estimate` with `route_minutes` for a ticket whose route has several services (on each
    step of it, the last one too, so that the visitor sees the end time throughout).

    The service in hand takes the ticket's expected wait, then the service's expected work (or
    what is left of a service under way). Each later service takes the wait of a newcomer to
    its line now, then its work: the lines are taken as the lobby screen shows them, since by
    the time the visitor gets there, others will have joined and left. `newcomers` keeps those
    waits for the other tickets of one refresh.
    """
    if len(ticket.route) < 2 or not ticket.status.is_open or estimate.expected is None:
        return estimate
    history = _history(state, now)

    def work(service: str) -> float:
        return history.profile(service, _default(state, service), now).mean

    if ticket.status is TicketStatus.SERVING and ticket.started_at is not None:
        elapsed = max(0.0, (now - ticket.started_at).total_seconds() / 60)
        minutes = history.residual(ticket.service, elapsed, _default(state, ticket.service))
    else:
        minutes = estimate.expected + work(ticket.service)
    for service in ticket.route[ticket.route_index + 1 :]:
        key = (service, ticket.priority)
        if key not in newcomers:
            newcomers[key] = estimate_new(state, service=service, now=now, priority=ticket.priority)
        wait = newcomers[key].expected
        if wait is None:
            return estimate  # no counter for it is open: when it will be is unknown
        minutes += wait + work(service)
    return dataclasses.replace(estimate, route_minutes=minutes)
