"""Single-flight background work per key: one run at a time, later requests folded together.

Under load many transactions of one site commit while its live status is being computed. Each
asks for a refresh; instead of one computation each, the requests that arrive while a run is in
progress are handed together to the next run. So the work per change falls as the load rises,
and what a run computes is never older than the last request it was given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger("madoguchi")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Run = Callable[[K, list[V]], Awaitable[None]]


class Coalescer(Generic[K, V]):
    """Event-loop side only: `submit` and `idle` must be called from the loop's thread.

    Runs for one key start at least `min_interval_s` apart: a lone request runs at once, a
    burst is folded into a few runs however fast each of them is.
    """

    def __init__(self, *, min_interval_s: float = 0.0) -> None:
        self.min_interval_s = min_interval_s
        self._pending: dict[K, list[V]] = {}
        self._tasks: dict[K, asyncio.Task[None]] = {}

    def submit(self, key: K, item: V, run: Run[K, V]) -> None:
        """Have `run(key, items)` see `item`: in the next run for `key`, started now if none is."""
        self._pending.setdefault(key, []).append(item)
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._drain(key, run))

    async def _drain(self, key: K, run: Run[K, V]) -> None:
        loop = asyncio.get_running_loop()
        try:
            while batch := self._pending.pop(key, None):
                started = loop.time()
                try:
                    await run(key, batch)
                except Exception:  # derived data: the next request computes it again
                    log.exception("background refresh of %r failed", key)
                await asyncio.sleep(max(0.0, started + self.min_interval_s - loop.time()))
        finally:
            del self._tasks[key]

    async def idle(self) -> None:
        """Wait until every submitted item has been run (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values())
