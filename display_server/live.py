"""What the server tells live clients after a change has been committed."""

from __future__ import annotations

from typing import Any

from display_server.office import Outcome
from display_server.runtime import Runtime


def site_channel(site: str) -> str:
    return f"site:{site}"


def ticket_channel(token: str) -> str:
    return f"ticket:{token}"


async def publish_outcome(runtime: Runtime, outcome: Outcome) -> None:
    """Publish each committed event to its site's channel, and ticket changes to the ticket's."""
    for seq, event in outcome.events:
        message: dict[str, Any] = {
            "seq": seq,
            "type": event.type.value,
            "site": event.site,
            "at": event.at.isoformat(),
            "counter": event.counter,
            "service": event.service,
            "ticket_id": event.ticket_id,
        }
        await runtime.hub.publish(site_channel(event.site), message)
    if outcome.ticket is not None and outcome.events:
        await runtime.hub.publish(
            ticket_channel(outcome.ticket.token),
            {"type": "ticket", "status": outcome.ticket.status.value, "site": outcome.site},
        )
