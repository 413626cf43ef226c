"""Publish/subscribe for live updates, in the shape of encode/broadcaster.

`await hub.publish(channel, message)`; `async with hub.subscribe(channel) as sub:` then
`channel, text = await sub.get()`, which raises `Lagged` when the subscriber fell behind.
"""

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from display_server.hub.base import Hub, Lagged, Subscription
from display_server.hub.memory import MemoryHub


def create_hub(url: str) -> Hub:
    """The hub for `url`: `memory://` (one process) or `redis://…` (several processes)."""
    if url.startswith("memory://"):
        return MemoryHub()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from display_server.hub.redis import PREFIX, RedisHub

        # `?channel_prefix=x:` keeps several installations (or test runs) on one Redis apart:
        # pub/sub channels are shared by all Redis databases.
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = query.pop("channel_prefix", [PREFIX])[0]
        rest = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        return RedisHub(rest, prefix=prefix)
    raise ValueError(f"unsupported pub/sub URL {url!r}: use memory:// or redis://host:port/db")


__all__ = ["Hub", "Lagged", "MemoryHub", "Subscription", "create_hub"]
