"""A day at the counters, simulated: who each counter calls, and when, by the office's rule.

Pure and clock-free: times are minutes from any origin. The demo's history and the forecast's
expected waits both serve their days here, so they follow the calling rule the server applies
(`rules.service_to_call`: the work profile and its policy).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from display_server.config import Counter
from display_server.core.rules import service_to_call

__all__ = ["Served", "serve_day"]


class Served(NamedTuple):
    """One ticket's turn: the counter (its index in the day's counters) and the minutes at
    which it was called and at which the counter was free again."""

    counter: int
    called: float
    finished: float


def serve_day(
    arrivals: Mapping[str, Sequence[float]],
    counters: Sequence[Counter],
    duration: Callable[[str], float],
    *,
    opens: float | None = None,
    shifts: Sequence[Sequence[tuple[float, float]]] | None = None,
) -> dict[str, list[Served | None]]:
    """Serve one day's arrivals (per service, in increasing order) at `counters`.

    All counters are free from `opens` (default: the first arrival). The counter free first
    calls by `service_to_call` among the services of its profile with someone waiting; with
    nobody waiting it takes the first of its services to arrive. `duration(service)` is the
    counter's time for the ticket, from the call until it is free again. `shifts`, per
    counter, are the (start, end) windows in which it calls, in order (default: always): at
    the end of one it finishes the ticket in hand and calls nobody until the next. Returns
    per service, in the order of `arrivals`, each ticket's turn, or None for a service no
    counter serves.
    """
    lines = {service: deque(enumerate(times)) for service, times in arrivals.items()}
    turns: dict[str, list[Served | None]] = {s: [None] * len(t) for s, t in arrivals.items()}
    first = min((t[0] for t in arrivals.values() if t), default=None)
    start = first if opens is None else opens
    if start is None:
        return turns
    always = (-math.inf, math.inf)
    free = [(start, n) for n in range(len(counters))]
    heapq.heapify(free)
    while free:
        now, n = heapq.heappop(free)
        shift = always if shifts is None else next((w for w in shifts[n] if w[1] > now), None)
        if shift is None:
            continue  # this counter's last shift is over
        if now < shift[0]:
            heapq.heappush(free, (shift[0], n))
            continue
        heads = {s: lines[s][0][1] for s in counters[n].services if lines.get(s)}
        if not heads:
            continue  # nothing left today that this counter serves
        waiting = {s: arrived for s, arrived in heads.items() if arrived <= now}
        service = service_to_call(counters[n], waiting) or min(heads, key=heads.__getitem__)
        index, arrived = lines[service][0]
        called = max(now, arrived)
        if called >= shift[1]:
            heapq.heappush(free, (shift[1], n))  # nobody before the shift ends: its next one
            continue
        lines[service].popleft()
        finished = called + duration(service)
        turns[service][index] = Served(n, called, finished)
        heapq.heappush(free, (finished, n))
    return turns
