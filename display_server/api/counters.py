"""Counter actions for staff: call next, recall, start, complete, no-show, transfer, state."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from display_server import office
from display_server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from display_server.api.tickets import status_url
from display_server.core.counters import CounterStatus
from display_server.core.estimate import WaitEstimate
from display_server.live import publish_outcome
from display_server.runtime import Runtime, transact
from display_server.security import Principal, Role, require
from display_server.store import counters as counter_store
from display_server.store import tickets as ticket_store
from display_server.views import ticket_view

router = APIRouter(prefix="/api/v1/counters", tags=["counters"])

TicketAction = Literal["recall", "start", "complete", "no-show", "transfer"]
STATUS_FOR = {
    "open": CounterStatus.OPEN,
    "pause": CounterStatus.PAUSED,
    "close": CounterStatus.CLOSED,
}


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=40)


def counter_view(
    session: Session, runtime: Runtime, request: Request, counter_id: str
) -> dict[str, Any]:
    """The counter's state and the ticket in hand, as the console and API show them."""
    site, counter = office.find_counter(runtime.config, counter_id)
    state = counter_store.get_counter(session, counter=counter_id)
    current = ticket_store.at_counter(session, counter=counter_id)
    return {
        "id": counter.id,
        "site": site.id,
        "label": counter.label,
        "state": state.status.value if state else CounterStatus.CLOSED.value,
        "services": list(counter.services),
        "ticket": (
            ticket_view(
                runtime.config,
                current,
                WaitEstimate(ahead=0, minutes_min=0, minutes_max=0),
                status_url=status_url(runtime, request, current.token),
                now=runtime.now(),
            )
            if current
            else None
        ),
    }


def authorise(principal: Principal | None, runtime: Runtime, counter_id: str) -> Principal:
    site, _ = office.find_counter(runtime.config, counter_id)
    return require(principal, Role.STAFF, Role.FLOOR, site=site.id)


async def run_counter_action(
    runtime: Runtime,
    request: Request,
    principal: Principal | None,
    counter_id: str,
    action: str,
    service: str | None = None,
) -> dict[str, Any]:
    """Shared by the API and the console page: authorise, change, commit, publish."""
    who = authorise(principal, runtime, counter_id)
    config = runtime.config

    def work(session: Session) -> tuple[office.Outcome, dict[str, Any]]:
        now = runtime.now()
        if action == "call-next":
            outcome = office.call_next(
                session, config=config, counter_id=counter_id, now=now, staff=who.name
            )
        elif action in STATUS_FOR:
            outcome = office.set_counter_status(
                session,
                config=config,
                counter_id=counter_id,
                status=STATUS_FOR[action],
                now=now,
                staff=who.name,
            )
        else:
            outcome = office.act_on_current(
                session,
                config=config,
                counter_id=counter_id,
                action=action,
                now=now,
                staff=who.name,
                service=service,
            )
        return outcome, counter_view(session, runtime, request, counter_id)

    outcome, view = await transact(runtime, work)
    if action == "call-next":
        runtime.metrics.calls.labels(outcome.site).inc()
    await publish_outcome(runtime, outcome)
    if outcome.ticket is not None:
        view["acted_on"] = {
            "id": outcome.ticket.id,
            "display_number": outcome.ticket.display_number,
            "status": outcome.ticket.status.value,
            "service": outcome.ticket.service,
        }
    return view


@router.get("/{counter}")
def get_counter(
    counter: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    authorise(principal, runtime, counter)
    return counter_view(session, runtime, request, counter)


@router.post("/{counter}/call-next")
async def call_next(
    counter: str, request: Request, runtime: RuntimeDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Call the next ticket of the counter's work profile (409 when none waits)."""
    return await run_counter_action(runtime, request, principal, counter, "call-next")


@router.post("/{counter}/transfer")
async def transfer(
    counter: str, body: TransferBody, request: Request, runtime: RuntimeDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Send the counter's ticket to another service; it keeps its place in line."""
    return await run_counter_action(runtime, request, principal, counter, "transfer", body.service)


@router.post("/{counter}/{action}")
async def counter_action(
    counter: str,
    action: Literal["recall", "start", "complete", "no-show", "open", "pause", "close"],
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """recall, start, complete or no-show the ticket in hand; open, pause or close the counter."""
    return await run_counter_action(runtime, request, principal, counter, action)
