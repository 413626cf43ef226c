"""The hub on both backends: delivery, several channels, bounded queues, Redis across hubs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest

from display_server.hub import Hub, Lagged, MemoryHub, create_hub
from display_server.hub.base import QUEUE_SIZE
from display_server.hub.redis import RedisHub


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[Hub]:
    if request.param == "memory":
        made: Hub = MemoryHub()
    else:
        # A prefix of its own keeps parallel test runs on one Redis apart.
        made = RedisHub(request.getfixturevalue("redis_url"), prefix=f"t{uuid.uuid4().hex[:8]}:")
    await made.connect()
    yield made
    await made.disconnect()


async def next_message(sub: object) -> tuple[str, str]:
    return await asyncio.wait_for(sub.get(), timeout=5)  # type: ignore[attr-defined]


async def test_subscriber_gets_what_is_published_in_order(hub: Hub) -> None:
    async with hub.subscribe("site:a") as sub:
        await hub.publish("site:a", {"seq": 1})
        await hub.publish("site:a", '{"seq":2}')
        await hub.publish("site:b", {"seq": 99})
        assert await next_message(sub) == ("site:a", '{"seq":1}')
        assert await next_message(sub) == ("site:a", '{"seq":2}')
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sub.get(), timeout=0.2)


async def test_one_subscription_can_follow_several_channels(hub: Hub) -> None:
    async with hub.subscribe("ticket:x", "site:a") as sub:
        await hub.publish_many([("site:a", {"n": 1}), ("ticket:x", {"n": 2})])
        got = [await next_message(sub), await next_message(sub)]
    assert [(c, json.loads(t)["n"]) for c, t in got] == [("site:a", 1), ("ticket:x", 2)]


async def test_unsubscribing_forgets_the_channel(hub: Hub) -> None:
    async with hub.subscribe("site:a"):
        assert hub.subscriber_count("site:a") == 1
    assert hub.subscriber_count("site:a") == 0


async def test_a_slow_subscriber_is_told_to_resync_and_never_blocks_the_others() -> None:
    hub = MemoryHub()
    async with hub.subscribe("site:a") as slow, hub.subscribe("site:a") as fast:
        for seq in range(QUEUE_SIZE + 5):
            await hub.publish("site:a", {"seq": seq})
            assert json.loads((await next_message(fast))[1])["seq"] == seq
        with pytest.raises(Lagged):
            await slow.get()
        # After the resync signal it goes on with new messages only: no backlog was kept.
        await hub.publish("site:a", {"seq": 1000})
        assert json.loads((await next_message(slow))[1])["seq"] == 1000


@pytest.mark.redis
async def test_redis_carries_messages_between_two_hubs(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    one, two = RedisHub(redis_url, prefix=prefix), RedisHub(redis_url, prefix=prefix)
    await one.connect()
    await two.connect()
    try:
        async with two.subscribe("site:a") as sub:
            await one.publish("site:a", {"seq": 7})
            assert await next_message(sub) == ("site:a", '{"seq":7}')
    finally:
        await one.disconnect()
        await two.disconnect()


@pytest.mark.redis
async def test_a_lost_redis_link_makes_subscribers_resync(redis_url: str) -> None:
    hub = RedisHub(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    await hub.connect()
    try:
        async with hub.subscribe("site:a") as sub:
            assert hub._redis is not None
            # Kill our own pub/sub connection from the server side, as a Redis restart would.
            for client in await hub._redis.client_list(_type="pubsub"):
                await hub._redis.client_kill_filter(_id=client["id"])
            with pytest.raises(Lagged):
                await asyncio.wait_for(sub.get(), timeout=10)
            await asyncio.sleep(0.2)
            await hub.publish("site:a", {"seq": 8})
            assert await next_message(sub) == ("site:a", '{"seq":8}')
    finally:
        await hub.disconnect()


def test_create_hub_picks_the_backend_from_the_url() -> None:
    assert isinstance(create_hub("memory://"), MemoryHub)
    assert isinstance(create_hub("redis://127.0.0.1:6379/0"), RedisHub)
    prefixed = create_hub("redis://127.0.0.1:6379/0?channel_prefix=test1:")
    assert isinstance(prefixed, RedisHub) and prefixed._prefix == "test1:"
    with pytest.raises(ValueError, match="unsupported"):
        create_hub("kafka://x")
