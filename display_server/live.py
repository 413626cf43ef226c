"""What the server tells live clients after a change has been committed.

Message formats (JSON text; see docs/live.md):

- site channel `site:{site}`: one change per event, `{seq, type, site, at, counter,
  counter_label, service, display_number, recalls}`; the last change of a transaction also
  carries `status`, the fresh site status (`views.site_status`), so screens never need an HTTP
  round trip. A snapshot is `{type: "snapshot", seq, status}`.
- ticket channel `ticket:{token}`: `{type: "ticket", seq, ticket}` with the ticket's view,
  people ahead, estimate and `near` (its turn is close).

Each message is computed once per transaction and fanned out by the hub, so the work per event
grows with the sites and their waiting tickets, never with the number of connected clients.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from display_server.config import Site, WardConfig
from display_server.core.estimate import WaitEstimate, estimate_all, estimate_ticket
from display_server.core.tickets import Event, EventType, Ticket, TicketStatus
from display_server.office import Outcome
from display_server.runtime import Runtime
from display_server.runtime import site_status as runtime_site_status
from display_server.store import events as event_store
from display_server.store import tickets as ticket_store
from display_server.views import site_status, ticket_view

#: Events a reconnecting client may catch up on from the log; further behind, it gets a snapshot.
REPLAY_LIMIT = 50
NO_WAIT = WaitEstimate(ahead=0, minutes_min=0, minutes_max=0)


def site_channel(site: str) -> str:
    return f"site:{site}"


def ticket_channel(token: str) -> str:
    return f"ticket:{token}"


def dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def snapshot_message(status: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "snapshot", "seq": status["seq"], "status": status}


def change_message(
    site: Site, seq: int, event: Event, *, display_number: str | None
) -> dict[str, Any]:
    labels = {c.id: c.label for c in site.counters}
    return {
        "seq": seq,
        "type": event.type.value,
        "site": event.site,
        "at": event.at.isoformat(),
        "counter": event.counter,
        "counter_label": labels.get(event.counter or ""),
        "service": event.service,
        "display_number": display_number or event.data.get("number"),
        "recalls": event.data.get("recalls"),
    }


def ticket_message(
    config: WardConfig, ticket: Ticket, estimate: WaitEstimate, *, seq: int, at: dt.datetime
) -> dict[str, Any]:
    """The phone page's view of one ticket; `near` flips when its turn is close."""
    view = ticket_view(config, ticket, estimate, status_url=f"/t/{ticket.token}", lang=ticket.lang)
    view["near"] = (
        ticket.status is TicketStatus.WAITING and estimate.ahead <= config.policy.near_turn_ahead
    ) or ticket.status is TicketStatus.CALLED
    return {"type": "ticket", "seq": seq, "at": at.isoformat(), "ticket": view}


def load_snapshot(runtime: Runtime, site: Site) -> dict[str, Any]:
    """A fresh snapshot from the database (worker thread)."""
    with runtime.sessions() as session:
        status = runtime_site_status(runtime, session, site, runtime.now())
    return snapshot_message(status)


def load_ticket(runtime: Runtime, token: str) -> dict[str, Any] | None:
    """The ticket's message from the database, None for an unknown token (worker thread)."""
    if len(token) > 64:
        return None
    with runtime.sessions() as session:
        ticket = ticket_store.by_token(session, token=token)
        if ticket is None:
            return None
        site = runtime.config.site(ticket.site)
        assert site is not None
        now = runtime.now()
        estimate = estimate_ticket(runtime.queue_state(session, site, now), ticket, now=now)
        seq = event_store.current_seq(session, site=ticket.site)
    return ticket_message(runtime.config, ticket, estimate, seq=seq, at=runtime.now())


def load_missed(runtime: Runtime, site: Site, since: int) -> list[dict[str, Any]] | None:
    """Changes after `since` from the event log, or None when too many were missed (thread)."""
    with runtime.sessions() as session:
        current = event_store.current_seq(session, site=site.id)
        if since > current or current - since > REPLAY_LIMIT:
            return None
        rows = event_store.events_after(session, site=site.id, seq=since, limit=REPLAY_LIMIT)
        numbers: dict[int, str] = {}
        for row in rows:
            if row.ticket_id is not None and row.ticket_id not in numbers:
                ticket = ticket_store.by_id(session, ticket_id=row.ticket_id)
                numbers[row.ticket_id] = ticket.display_number if ticket else ""
        return [
            change_message(
                site,
                row.seq,
                Event(
                    type=EventType(row.type),
                    site=row.site,
                    at=row.at,
                    ticket_id=row.ticket_id,
                    counter=row.counter,
                    service=row.service,
                    data=row.data or {},
                ),
                display_number=numbers.get(row.ticket_id) if row.ticket_id else None,
            )
            for row in rows
        ]


def _outcome_messages(
    session: Session, runtime: Runtime, outcome: Outcome
) -> list[tuple[str, dict[str, Any]]]:
    config = runtime.config
    site = config.site(outcome.site)
    assert site is not None
    now = runtime.now()
    state = runtime.queue_state(session, site, now)
    status = site_status(session, config=config, site=site, now=now, state=state)
    messages: list[tuple[str, dict[str, Any]]] = []
    acted = outcome.ticket
    for seq, event in outcome.events:
        same = acted is not None and event.ticket_id == acted.id
        change = change_message(
            site, seq, event, display_number=acted.display_number if same and acted else None
        )
        messages.append((site_channel(site.id), change))
    messages[-1][1]["status"] = status
    # Everyone still waiting moved (or their estimate did): one estimate run for all of them.
    # A plain new ticket joins at the back and moves nobody, so then only it is told.
    estimates = estimate_all(state, now=now)
    seq = status["seq"]
    moved = [t for t in state.waiting if _moves_the_line(outcome) or t.id == (acted and acted.id)]
    followed: list[tuple[Ticket, WaitEstimate]] = [(t, estimates.get(t.id, NO_WAIT)) for t in moved]
    if acted is not None and acted.status is not TicketStatus.WAITING:
        followed.append((acted, NO_WAIT))
    for ticket, estimate in followed:
        message = ticket_message(config, ticket, estimate, seq=seq, at=now)
        messages.append((ticket_channel(ticket.token), message))
    return messages


def _moves_the_line(outcome: Outcome) -> bool:
    """Whether the change can alter the position or estimate of tickets other than its own."""
    return any(
        event.type is not EventType.ISSUED or event.data.get("priority", False)
        for _, event in outcome.events
    )


async def publish_outcome(runtime: Runtime, outcome: Outcome) -> None:
    """Publish a committed outcome: its site changes with the fresh status, then ticket updates."""
    if not outcome.events:
        return

    def compute() -> Sequence[tuple[str, dict[str, Any]]]:
        with runtime.sessions() as session:
            return _outcome_messages(session, runtime, outcome)

    messages = await run_in_threadpool(compute)
    await runtime.hub.publish_many([(channel, dumps(m)) for channel, m in messages])
