"""Replay a visits log through the wait estimator and score it against the realised waits.

The Visits CSV (docs/estimates.md) has one row per visitor: `arrival`, `service_start`,
`service_end` (ISO 8601; empty service times: left without service) and optional `queue`,
`server`, `left` (when an unserved visitor gave up) and `priority`. Events are fed in time order
into the same `QueueHistory` the server keeps; at each arrival the estimator sees only what was
known then, next to the classic queue-length (QL) and last-to-enter-service (LES) estimators.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from display_server.config import Counter, Names
from display_server.core.counters import CounterStatus
from display_server.core.estimate import CounterView, QueueHistory, QueueState, estimate_ticket
from display_server.core.tickets import Channel, Ticket, TicketStatus
from display_server.errors import MadoguchiError

REQUIRED = ("arrival", "service_start", "service_end")
_TRUE, _FALSE = {"1", "true", "yes", "y"}, {"0", "false", "no", "n", ""}


class ReplayError(MadoguchiError):
    """`madoguchi estimate replay` cannot run on this input."""


class VisitsFileError(ReplayError):
    """A problem in the visits file, located by row (1 = header) and column."""

    def __init__(self, path: str, row: int, column: str | None, problem: str) -> None:
        where = f"{path}, row {row}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {problem}")
        self.path, self.row, self.column = path, row, column


@dataclass(frozen=True)
class Visit:
    row: int
    arrival: dt.datetime
    service_start: dt.datetime | None
    service_end: dt.datetime | None
    queue: str = ""
    server: str = ""
    left: dt.datetime | None = None
    priority: bool = False


def load_visits(path: Path) -> list[Visit]:
    """Read and check a Visits CSV; every problem names its row and column."""
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise VisitsFileError(name, 1, None, "the file is empty (no header row)")
            missing = [c for c in REQUIRED if c not in reader.fieldnames]
            if missing:
                found = ", ".join(reader.fieldnames)
                raise VisitsFileError(name, 1, None, f"missing column(s) {missing}; found {found}")
            zones: list[bool] = []
            visits = [_visit(name, reader.line_num, row, zones) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReplayError(f"{name}: cannot read: {exc}") from exc
    if not visits:
        raise VisitsFileError(name, 2, None, "no visits after the header row")
    return visits


def _visit(path: str, line: int, row: dict[str, str | None], zones: list[bool]) -> Visit:
    def time(column: str, required: bool = False) -> dt.datetime | None:
        text = (row.get(column) or "").strip()
        if not text:
            if required:
                raise VisitsFileError(path, line, column, "is empty")
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise VisitsFileError(path, line, column, f"{text!r} is not an ISO 8601 time") from None
        aware = value.tzinfo is not None
        if zones and zones[0] != aware:
            raise VisitsFileError(path, line, column, "mixes times with and without a UTC offset")
        zones[:1] = [aware]
        return value.astimezone(dt.UTC).replace(tzinfo=None) if aware else value

    arrival = time("arrival", required=True)
    assert arrival is not None
    start, end, left = time("service_start"), time("service_end"), time("left")
    if (start is None) != (end is None):
        column = "service_end" if end is None else "service_start"
        raise VisitsFileError(path, line, column, "service_start and service_end go together")
    if start is not None and start < arrival:
        raise VisitsFileError(path, line, "service_start", "is before the arrival")
    if start is not None and end is not None and end < start:
        raise VisitsFileError(path, line, "service_end", "is before service_start")
    if left is not None and (start is not None or left < arrival):
        raise VisitsFileError(path, line, "left", "only for unserved visits, after the arrival")
    flag = (row.get("priority") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise VisitsFileError(path, line, "priority", f"{flag!r} is not 1/0/true/false")
    queue, server = (row.get("queue") or "").strip(), (row.get("server") or "").strip()
    return Visit(line, arrival, start, end, queue, server, left, flag in _TRUE)


@dataclass(frozen=True)
class Score:
    mae_min: float | None
    rmse_min: float | None
    medae_min: float | None
    coverage80: float | None


def score(
    realised: Sequence[float], predicted: Sequence[float],
    intervals: Sequence[tuple[float, float]] | None = None,
) -> Score:
    """Errors in minutes; coverage is the share of realised waits inside the 80 % interval."""
    if not realised:
        return Score(None, None, None, None)
    errors = [abs(p - r) for p, r in zip(predicted, realised, strict=True)]
    coverage = None
    if intervals is not None:
        inside = sum(lo <= r <= hi for (lo, hi), r in zip(intervals, realised, strict=True))
        coverage = round(inside / len(realised), 4)
    return Score(
        round(statistics.fmean(errors), 4),
        round(math.sqrt(statistics.fmean(e * e for e in errors)), 4),
        round(statistics.median(errors), 4),
        coverage,
    )


Row = tuple[dt.datetime, float, float, float, float, float, float]


@dataclass(frozen=True)
class ReplayResult:
    n: int
    madoguchi: Score
    ql: Score
    les: Score
    #: Scored arrivals when no server was known open (madoguchi then falls back to QL).
    unestimated: int
    #: Per scored visitor, in arrival order: (arrival, realised wait, madoguchi point, p10,
    #: upper end of the 80 % range, QL, LES). Not part of the JSON contract.
    rows: tuple[Row, ...] = dataclasses.field(default=(), repr=False, compare=False)
    #: Per visit, in the order given: the position score of its estimate at arrival, as the
    #: server stores it with an issued ticket (None: not estimated). Not part of the contract.
    scores: tuple[float | None, ...] = dataclasses.field(default=(), repr=False, compare=False)

    @property
    def ratio_to_best(self) -> float | None:
        """madoguchi's MAE over the better of QL's and LES's, as the benchmarks report it."""
        ours, best = self.madoguchi.mae_min, min(self.ql.mae_min or 0.0, self.les.mae_min or 0.0)
        return round(ours / best, 3) if ours is not None and best else None

    def to_json(self) -> dict[str, Any]:
        """The contract's `estimate replay` output."""
        return {
            "n": self.n,
            "estimators": {
                name: dataclasses.asdict(getattr(self, name)) for name in ("madoguchi", "ql", "les")
            },
        }


@dataclass
class _Server:
    counter: Counter
    current: Ticket | None = None
    last_seen: dt.datetime | None = None


class _Replay:
    """The replay's view of the office, rebuilt from the log as it goes."""

    def __init__(self, default_minutes: float, idle_minutes: float) -> None:
        self.default = default_minutes
        self.idle = dt.timedelta(minutes=idle_minutes)
        self.history = QueueHistory()
        self.servers: dict[str, _Server] = {}
        self.waiting: dict[str, dict[int, Ticket]] = {}  # per service, in arrival order
        self.recent: dict[str, deque[float]] = {}  # plain recent durations, for QL
        self.last_wait: dict[str, float] = {}  # for LES

    def server_for(self, name: str, service: str) -> _Server:
        server = self.servers.get(name)
        if server is None:
            label = str(len(self.servers) + 1)
            counter = Counter(
                id=f"c{label}", name=Names(ja=name, en=name), label=label[-8:], services=(service,)
            )
            server = self.servers[name] = _Server(counter)
        elif service not in server.counter.services:
            # A server seen serving a new queue adds it to its work profile.
            services = (*server.counter.services, service)
            server.counter = server.counter.model_copy(update={"services": services})
        return server

    def idle_slot(self, service: str, now: dt.datetime) -> str:
        """Without a `server` column, services in progress at once stand for busy counters."""
        free = [n for n, s in self.servers.items() if s.current is None]
        return max(free, key=lambda n: self.servers[n].last_seen or now) if free else (
            f"slot {len(self.servers) + 1}"
        )

    def views(self, now: dt.datetime) -> list[CounterView]:
        """Busy servers, and idle ones seen lately that left nobody of theirs waiting."""
        views = []
        for server in self.servers.values():
            if server.current is not None:
                views.append(CounterView(server.counter, CounterStatus.OPEN, server.current))
                continue
            seen = server.last_seen
            if seen is None or now - seen > self.idle:
                continue
            skipped = any(
                next(iter(line.values())).queued_at < seen
                for s in server.counter.services
                if (line := self.waiting.get(s))
            )
            status = CounterStatus.PAUSED if skipped else CounterStatus.OPEN
            views.append(CounterView(server.counter, status))
        return views


def replay(
    visits: Iterable[Visit], *, queue: str | None = None, default_minutes: float = 10.0,
    idle_minutes: float = 10.0,
) -> ReplayResult:
    """Feed the visits in time order and score every served visit of `queue` (all if None)."""
    visits = list(visits)
    services = {q: f"q{i}" for i, q in enumerate(dict.fromkeys(v.queue for v in visits))}
    events: list[tuple[dt.datetime, int, int]] = []
    for i, v in enumerate(visits):
        events.append((v.arrival, 3, i))
        if v.service_start is not None and v.service_end is not None:
            events.append((v.service_start, 2 if v.service_start > v.arrival else 4, i))
            # A zero-length service ends after it starts, whatever the tie order.
            events.append((v.service_end, 0 if v.service_end > v.service_start else 5, i))
        else:  # without `left`, an unserved visitor is taken to leave at once
            left = v.left or v.arrival
            events.append((left, 1 if left > v.arrival else 4, i))
    events.sort()
    state = _Replay(default_minutes, idle_minutes)
    tickets: dict[int, Ticket] = {}
    on_server: dict[int, str] = {}
    scores: list[float | None] = [None] * len(visits)
    rows: list[Row] = []
    unestimated = 0
    for now, kind, i in events:
        v, service = visits[i], services[visits[i].queue]
        if kind in (0, 5):  # service ended
            server = state.servers[on_server.pop(i)]
            if server.current is not None and server.current.id == i:
                server.current = None
            server.last_seen = now
            minutes = (now - tickets[i].started_at).total_seconds() / 60  # type: ignore[operator]
            state.history.service_done(service, minutes, at=now)
            state.recent.setdefault(service, deque(maxlen=100)).append(minutes)
        elif kind == 3:  # arrival
            ticket = _ticket(i, service, v)
            tickets[i] = ticket
            state.waiting.setdefault(service, {})[i] = ticket
            state.history.arrived(service, priority=v.priority, at=now)
            if v.service_start is None:
                continue  # never realised: its estimate could not be scored nor fed back
            views = state.views(now)
            waiting = [t for line in state.waiting.values() for t in line.values()]
            qs = QueueState(waiting, views, {}, {service: default_minutes}, state.history)
            est = estimate_ticket(qs, ticket, now=now)
            scores[i] = est.score  # handed back to the history when the wait is realised
            if queue is not None and v.queue != queue:
                continue
            open_ = sum(1 for w in views if w.status is CounterStatus.OPEN
                        and service in w.config.services)
            recent = state.recent.get(service)
            mean = statistics.fmean(recent) if recent else default_minutes
            ql = est.ahead * mean / max(open_, 1)
            les = state.last_wait.get(service, 0.0)
            realised = (v.service_start - v.arrival).total_seconds() / 60
            if est.median is None or est.low is None or est.high is None:
                unestimated += 1
                rows.append((v.arrival, realised, ql, ql, ql, ql, les))
            else:
                # The median is the point that minimises absolute error; the mean would not.
                rows.append((v.arrival, realised, est.median, est.low, est.high, ql, les))
        else:  # left the line: called (start) or gave up
            state.waiting[service].pop(i, None)
            state.history.left_line(service, served=v.service_start is not None, at=now)
            if v.service_start is None:
                continue
            name = v.server or state.idle_slot(service, now)
            server = state.server_for(name, service)
            started = dataclasses.replace(
                tickets[i], status=TicketStatus.SERVING, counter=server.counter.id,
                called_at=now, started_at=now,
            )
            tickets[i] = server.current = started
            server.last_seen = now
            on_server[i] = name
            wait = (now - v.arrival).total_seconds() / 60
            state.last_wait[service] = wait
            state.history.waited(service, wait, at=now, score=scores[i], priority=v.priority)
    return dataclasses.replace(result_of(rows, unestimated), scores=tuple(scores))


def result_of(rows: Sequence[Row], unestimated: int = 0) -> ReplayResult:
    """Scores of a set of rows (e.g. one month of a longer replay)."""
    waits = [r[1] for r in rows]
    return ReplayResult(
        n=len(rows),
        madoguchi=score(waits, [r[2] for r in rows], [(r[3], r[4]) for r in rows]),
        ql=score(waits, [r[5] for r in rows]),
        les=score(waits, [r[6] for r in rows]),
        unestimated=unestimated,
        rows=tuple(rows),
    )


def _ticket(i: int, service: str, v: Visit) -> Ticket:
    return Ticket(
        id=i, token=str(i), site="replay", service=service, number=i, display_number=str(i),
        business_date=v.arrival.date(), channel=Channel.KIOSK, priority=v.priority, lang="ja",
        route=(service,), route_index=0, status=TicketStatus.WAITING, issued_at=v.arrival,
        queued_at=v.arrival,
    )
