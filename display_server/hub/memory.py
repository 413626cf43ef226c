"""The in-process hub: enough for one server process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

#: Messages a slow subscriber may have pending before the oldest are dropped.
QUEUE_SIZE = 64


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        #: Set when messages were dropped: the client must resync from a snapshot.
        self.overflowed = False

    def put(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class MemoryHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers[channel].discard(subscription)


def create_hub(url: str) -> MemoryHub:
    """The hub for `url`; only memory:// exists so far."""
    if url.startswith("memory://"):
        return MemoryHub()
    raise ValueError(f"unsupported pub/sub URL {url!r}")
