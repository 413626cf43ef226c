"""Publish/subscribe for live updates, in the shape of encode/broadcaster."""

from display_server.hub.memory import MemoryHub, Subscription, create_hub

__all__ = ["MemoryHub", "Subscription", "create_hub"]
