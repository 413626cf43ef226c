"""What the server tells live clients after a change has been committed.

Message formats (JSON text; see docs/live.md):

- site channel `site:{site}`: one change per event, `{seq, type, site, at, counter,
  counter_label, service, display_number, recalls}`, sent as soon as the transaction commits;
  then a snapshot `{type: "snapshot", seq, status}` with the fresh site status
  (`views.site_status`), so screens never need an HTTP round trip.
- ticket channel `ticket:{token}`: `{type: "ticket", seq, ticket}` with the ticket's view,
  people ahead, estimate and `near` (its turn is close).

Each message is computed once and fanned out by the hub, so the work per event grows with the
sites and their waiting tickets, never with the number of connected clients. The snapshot and
the ticket updates are computed at most once at a time per site (`coalesce.py`): transactions
that commit meanwhile share the next computation, so a burst of changes costs one status.
"""

from __future__ import annotations

import datetime as dt
import functools
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
from display_server.views import office_time, site_status, ticket_view

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
    site: Site, seq: int, event: Event, *, display_number: str | None, zone: dt.tzinfo
) -> dict[str, Any]:
    labels = {c.id: c.label for c in site.counters}
    return {
        "seq": seq,
        "type": event.type.value,
        "site": event.site,
        "at": office_time(event.at, zone),
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
    view = ticket_view(
        config, ticket, estimate, status_url=f"/t/{ticket.token}", now=at, lang=ticket.lang
    )
    view["near"] = (
        ticket.status is TicketStatus.WAITING and estimate.ahead <= config.policy.near_turn_ahead
    ) or ticket.status is TicketStatus.CALLED
    return {
        "type": "ticket", "seq": seq, "at": office_time(at, config.policy.zone), "ticket": view
    }


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
    return ticket_message(runtime.config, ticket, estimate, seq=seq, at=now)


def load_missed(runtime: Runtime, site: Site, since: int) -> list[dict[str, Any]] | None:
    """Changes after `since` from the event log, or None when too many were missed (thread)."""
    with runtime.sessions() as session:
        current = event_store.current_seq(session, site=site.id)
        if since > current or current - since > REPLAY_LIMIT:
            return None
        rows = event_store.events_with_tickets_after(
            session, site=site.id, seq=since, limit=REPLAY_LIMIT
        )
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
                display_number=ticket.display_number if ticket else None,
                zone=runtime.config.policy.zone,
            )
            for row, ticket in rows
        ]


def _refresh_messages(
    session: Session, runtime: Runtime, site: Site, outcomes: Sequence[Outcome]
) -> list[tuple[str, dict[str, Any]]]:
    """The site's fresh status and the ticket updates owed for `outcomes` (committed before)."""
    config = runtime.config
    now = runtime.now()
    state = runtime.queue_state(session, site, now)
    status = site_status(session, config=config, site=site, now=now, state=state)
    messages: list[tuple[str, dict[str, Any]]] = [(site_channel(site.id), snapshot_message(status))]
    # Everyone still waiting moved (or their estimate did): one estimate run for all of them.
    # A plain new ticket joins at the back and moves nobody; nobody follows it yet either (its
    # token is only now being handed out), so then no ticket is told anything.
    followed: list[tuple[Ticket, WaitEstimate]] = []
    if any(_moves_the_line(outcome) for outcome in outcomes):
        estimates = estimate_all(state, now=now)
        followed = [(t, estimates.get(t.id, NO_WAIT)) for t in state.waiting]
    # Tickets that left the line (called, done, cancelled …), as each outcome left them; one
    # called on its route's way still hears when the route should be through.
    left = {o.ticket.id: o.ticket for o in outcomes if o.ticket is not None}
    followed += [
        (t, estimate_ticket(state, t, now=now))
        for t in left.values() if t.status is not TicketStatus.WAITING
    ]
    for ticket, estimate in followed:
        message = ticket_message(config, ticket, estimate, seq=status["seq"], at=now)
        messages.append((ticket_channel(ticket.token), message))
    return messages


def _moves_the_line(outcome: Outcome) -> bool:
    """Whether the change can alter the position or estimate of tickets other than its own."""
    return any(
        event.type is not EventType.ISSUED or event.data.get("priority", False)
        for _, event in outcome.events
    )


async def _refresh_site(runtime: Runtime, site_id: str, outcomes: list[Outcome]) -> None:
    site = runtime.config.site(site_id)
    assert site is not None

    def compute() -> list[tuple[str, dict[str, Any]]]:
        with runtime.sessions() as session:
            return _refresh_messages(session, runtime, site, outcomes)

    messages = await run_in_threadpool(compute)
    await runtime.hub.publish_many([(channel, dumps(m)) for channel, m in messages])


async def publish_outcome(runtime: Runtime, outcome: Outcome) -> None:
    """Publish a committed outcome: its changes at once, then (coalesced) the fresh status.

    The status and the ticket updates are computed in the background, at most once at a time
    per site: outcomes committed meanwhile are folded into the next computation.
    """
    if not outcome.events:
        return
    site = runtime.config.site(outcome.site)
    assert site is not None
    acted = outcome.ticket
    changes = [
        change_message(
            site,
            seq,
            event,
            display_number=(
                acted.display_number if acted is not None and event.ticket_id == acted.id else None
            ),
            zone=runtime.config.policy.zone,
        )
        for seq, event in outcome.events
    ]
    await runtime.hub.publish_many([(site_channel(site.id), dumps(c)) for c in changes])
    runtime.status_refresh.submit(site.id, outcome, functools.partial(_refresh_site, runtime))
