"""The in-process hub: enough for one server process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from display_server.hub.base import Hub, encode


class MemoryHub(Hub):
    async def publish(self, channel: str, message: Mapping[str, Any] | str) -> None:
        self.deliver(channel, encode(message))
