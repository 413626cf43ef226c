"""What every hub backend shares: subscriptions with bounded queues and the local fan-out."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

#: Messages a subscriber may have pending. A client this far behind is sent the latest snapshot
#: instead (see `Lagged`), so a slow screen costs a bounded amount of memory and never holds up
#: the publisher or the other subscribers.
QUEUE_SIZE = 32


class Lagged(Exception):  # named after tokio's broadcast `Lagged`, a known idiom
    """The subscriber fell behind and messages were dropped: it must resync from a snapshot."""


class Subscription:
    """One subscriber's bounded queue of JSON texts, from one or more channels."""

    def __init__(self, channels: tuple[str, ...], size: int = QUEUE_SIZE) -> None:
        self.channels = channels
        self._size = size
        self._queue: deque[tuple[str, str]] = deque()
        self._ready = asyncio.Event()
        self._lagged = False

    def put(self, channel: str, text: str) -> None:
        """Never blocks: when the queue is full the backlog is dropped and `get` raises Lagged."""
        if self._lagged:
            return  # the snapshot the subscriber reads on resync will include this change
        if len(self._queue) >= self._size:
            self._queue.clear()
            self._lagged = True
        else:
            self._queue.append((channel, text))
        self._ready.set()

    def lag(self) -> None:
        """Messages may have been lost upstream (pub/sub reconnect): the subscriber must resync."""
        self._queue.clear()
        self._lagged = True
        self._ready.set()

    async def get(self) -> tuple[str, str]:
        """The next `(channel, text)`; raises Lagged once after messages were dropped."""
        while True:
            if self._lagged:
                self._lagged = False
                raise Lagged
            if self._queue:
                return self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()


def encode(message: Mapping[str, Any] | str) -> str:
    """Messages travel as JSON text, encoded once however many subscribers receive them."""
    if isinstance(message, str):
        return message
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class Hub:
    """Local subscribers and their fan-out; backends add how messages reach `deliver`."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, message: Mapping[str, Any] | str) -> None:
        raise NotImplementedError

    async def publish_many(self, messages: list[tuple[str, Mapping[str, Any] | str]]) -> None:
        """Publish several messages in order (one round trip where the backend allows)."""
        for channel, message in messages:
            await self.publish(channel, message)

    def deliver(self, channel: str, text: str) -> None:
        """Hand `text` to every local subscriber of `channel`: O(subscribers), never blocks."""
        for subscription in tuple(self._subscribers.get(channel, ())):
            subscription.put(channel, text)

    def lag_all(self) -> None:
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.lag()

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    @asynccontextmanager
    async def subscribe(self, channel: str, *more: str) -> AsyncIterator[Subscription]:
        """`async with hub.subscribe("site:x") as sub: channel, text = await sub.get()`."""
        subscription = Subscription((channel, *more))
        for name in subscription.channels:
            self._subscribers.setdefault(name, set()).add(subscription)
        try:
            yield subscription
        finally:
            for name in subscription.channels:
                subscribers = self._subscribers.get(name)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[name]
