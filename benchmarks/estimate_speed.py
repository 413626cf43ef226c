"""Time `estimate_all` and `estimate_ticket` with 500 tickets waiting at 8 counters, with a
history that holds service times and 3,000 realised waits (calibration in use).

Usage (from the project root): python benchmarks/estimate_speed.py [--waiting 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

from display_server.config import Counter, Names
from display_server.core.counters import CounterStatus
from display_server.core.estimate import (
    CounterView,
    QueueHistory,
    QueueState,
    estimate_all,
    estimate_ticket,
)
from display_server.core.tickets import Channel, Ticket, TicketStatus

NOW = dt.datetime(2025, 4, 1, 11, 0)
SERVICES = ("juminhyo", "koseki", "kokuho", "jidou")


def ticket(i: int, service: str, priority: bool, status: TicketStatus) -> Ticket:
    at = NOW - dt.timedelta(seconds=10 * (1000 - i))
    return Ticket(
        id=i, token=str(i), site="s", service=service, number=i, display_number=str(i),
        business_date=NOW.date(), channel=Channel.KIOSK, priority=priority, lang="ja",
        route=(service,), route_index=0, status=status, issued_at=at, queued_at=at,
        called_at=at if status is TicketStatus.SERVING else None,
    )


def state(waiting: int) -> QueueState:
    rng = random.Random(6)
    history = QueueHistory()
    for k in range(1200):
        history.service_done(rng.choice(SERVICES), rng.lognormvariate(1.8, 0.6),
                             at=NOW - dt.timedelta(seconds=k))
    for k in range(3000):  # realised waits with their scores: the calibrated path is timed
        history.waited(rng.choice(SERVICES), rng.expovariate(0.2), score=rng.expovariate(0.1),
                       priority=rng.random() < 0.2, at=NOW - dt.timedelta(seconds=k))
    tickets = [ticket(i, rng.choice(SERVICES), rng.random() < 0.05, TicketStatus.WAITING)
               for i in range(waiting)]
    counters = []
    for c in range(8):
        services = tuple(rng.sample(SERVICES, 2))
        config = Counter(id=f"c{c}", name=Names(ja="窓口", en="Counter"), label=str(c + 1),
                         services=services, policy="strict_order" if c % 3 == 0 else "longest_wait")
        current = ticket(10_000 + c, services[0], False, TicketStatus.SERVING)
        counters.append(CounterView(config, CounterStatus.OPEN if c != 7 else CounterStatus.PAUSED,
                                    current))
    return QueueState(tickets, counters, {}, dict.fromkeys(SERVICES, 8.0), history)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    queue = state(args.waiting)
    estimate_all(queue, now=NOW)  # warm the duration summaries, as a running server has
    began = time.perf_counter()
    for _ in range(args.repeat):
        estimates = estimate_all(queue, now=NOW)
    per_all = (time.perf_counter() - began) / args.repeat / len(estimates) * 1000
    last = max(queue.waiting, key=Ticket.queue_key)
    began = time.perf_counter()
    for _ in range(args.repeat):
        estimate_ticket(queue, last, now=NOW)
    one = (time.perf_counter() - began) / args.repeat * 1000
    print(f"waiting={args.waiting} estimate_all: {per_all:.4f} ms per estimate; "
          f"estimate_ticket (last in line): {one:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
