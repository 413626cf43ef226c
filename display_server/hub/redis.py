"""The Redis pub/sub hub: several server processes (and hosts) share their messages.

Every process pattern-subscribes to the hub's prefix once, so Redis does one delivery per
process whatever the number of websocket clients; the local fan-out happens in the process.
Publishing goes through Redis even for local subscribers, so that every process sees the
messages of a channel in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from display_server.hub.base import Hub, encode

log = logging.getLogger("madoguchi.hub")
PREFIX = "madoguchi:"
#: Wait between attempts to reach Redis again after the link broke.
RETRY_S = 1.0


class RedisHub(Hub):
    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        super().__init__()
        self._url = url
        self._prefix = prefix
        self._redis: aioredis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def connect(self) -> None:
        self._redis = aioredis.Redis.from_url(self._url)
        self._reader = asyncio.create_task(self._read_forever())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]  # stubs predate aclose
        await super().disconnect()

    async def publish(self, channel: str, message: Mapping[str, Any] | str) -> None:
        assert self._redis is not None, "connect() the hub first"
        await self._redis.publish(self._prefix + channel, encode(message))

    async def publish_many(self, messages: list[tuple[str, Mapping[str, Any] | str]]) -> None:
        assert self._redis is not None, "connect() the hub first"
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(self._prefix + channel, encode(message))
            await pipe.execute()

    async def _read_forever(self) -> None:
        assert self._redis is not None
        cut = len(self._prefix)
        lost = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self._prefix + "*")
                self._subscribed.set()
                if lost:
                    # What was published while the link was down is gone: subscribers resync
                    # now that they will hear what follows.
                    self.lag_all()
                    lost = False
                while True:
                    item = await pubsub.get_message(timeout=30.0)
                    if item is None or item["type"] != "pmessage":
                        continue
                    channel = item["channel"].decode()[cut:]
                    self.deliver(channel, item["data"].decode())
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("redis pub/sub link lost (%s); retrying", exc)
                lost = True
                await asyncio.sleep(RETRY_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[attr-defined]
