"""Issuing tickets and following them by their token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from display_server import office
from display_server.api.deps import ConfigDep, PrincipalDep, RuntimeDep, SessionDep
from display_server.core import rules
from display_server.core.errors import InvalidTransition, NotFound
from display_server.core.estimate import WaitEstimate, estimate_ticket
from display_server.core.tickets import Channel, Ticket
from display_server.errors import MadoguchiError
from display_server.i18n import SUPPORTED_LANGUAGES
from display_server.live import publish_outcome
from display_server.runtime import Runtime, transact
from display_server.security import Principal, Role, require
from display_server.store import tickets as ticket_store
from display_server.store.models import TicketRow
from display_server.views import ticket_view

router = APIRouter(prefix="/api/v1", tags=["tickets"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


class TooManyRemoteTickets(MadoguchiError):
    """A phone already holds the remote tickets its fairness limit allows (429)."""


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=40)
    channel: Literal["kiosk", "staff", "remote"] | None = None
    priority: bool = False
    lang: str = Field(default="ja", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    route: list[str] | None = Field(default=None, min_length=1, max_length=6)


def status_url(runtime: Runtime, request: Request, token: str) -> str:
    base = runtime.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/t/{token}"


def _channel_for(
    principal: Principal | None, body: IssueBody, site: str
) -> tuple[Channel, str | None]:
    """Which channel the request may use, and who issued it."""
    if principal is None:
        if body.channel not in (None, "remote"):
            raise InvalidTransition("without credentials only remote tickets can be taken")
        if body.priority:
            raise InvalidTransition("priority tickets are issued at the kiosk or by staff")
        return Channel.REMOTE, None
    if principal.role is Role.KIOSK:
        require(principal, Role.KIOSK, site=site)
        return Channel.KIOSK, principal.name
    require(principal, Role.STAFF, Role.FLOOR, site=site)
    return Channel(body.channel or "staff"), principal.name


def _remote_client_id(runtime: Runtime, request: Request, day: str) -> str:
    """A day-scoped pseudonym of the phone's address: enough for fairness, no personal data."""
    address = request.client.host if request.client else "unknown"
    return f"remote:{runtime.signer.pseudonym(f'{day}:{address}')}"


def _open_remote_tickets(session: Session, *, site: str, issued_by: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(TicketRow)
            .where(
                TicketRow.site == site,
                TicketRow.issued_by == issued_by,
                TicketRow.status.in_(ticket_store.OPEN_STATUSES),
            )
        )
        or 0
    )


@router.post("/sites/{site}/tickets", status_code=201)
async def issue_ticket(
    site: str,
    body: IssueBody,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Issue a ticket (201), or return the earlier one for a repeated Idempotency-Key (200)."""
    config = runtime.config
    office.find_site(config, site)
    channel, issued_by = _channel_for(principal, body, site)
    lang = body.lang if body.lang in SUPPORTED_LANGUAGES else body.lang.split("-")[0]
    issue = office.IssueRequest(
        service=body.service,
        channel=channel,
        priority=body.priority,
        lang=lang,
        route=tuple(body.route or ()),
    )
    now = runtime.now()

    def work(session: Session) -> tuple[office.Outcome, WaitEstimate]:
        who = issued_by
        if channel is Channel.REMOTE:
            who = _remote_client_id(runtime, request, rules.business_date(config, now).isoformat())
            limit = config.policy.remote_tickets_per_day
            if _open_remote_tickets(session, site=site, issued_by=who) >= limit:
                raise TooManyRemoteTickets(
                    f"this phone already holds {limit} open remote ticket(s) here"
                )
        outcome = office.issue_ticket(
            session,
            config=config,
            site_id=site,
            request=issue,
            now=now,
            idempotency_key=idempotency_key,
            issued_by=who,
            estimate=lambda ticket: _estimate(session, runtime, ticket),
        )
        assert outcome.ticket is not None
        # A retry is answered with the earlier ticket's estimate as of now.
        return outcome, outcome.estimate or _estimate(session, runtime, outcome.ticket)

    try:
        outcome, estimate = await transact(runtime, work)
    except IntegrityError:
        # Another request with the same new Idempotency-Key committed first: answer with its
        # ticket (or 409 if it asked for something else).
        outcome, estimate = await transact(runtime, work)
    assert outcome.ticket is not None
    # Described after the commit: the transaction's row locks are released the sooner.
    view = _view(runtime, request, outcome.ticket, estimate)
    if outcome.created:
        runtime.metrics.tickets_issued.labels(site, outcome.ticket.service, channel.value).inc()
        await publish_outcome(runtime, outcome)
    else:
        response.status_code = 200
    return view


def _estimate(session: Session, runtime: Runtime, ticket: Ticket) -> WaitEstimate:
    site = runtime.config.site(ticket.site)
    assert site is not None
    now = runtime.now()
    state = runtime.queue_state(session, site, now, including=(ticket,))
    return estimate_ticket(state, ticket, now=now)


def _describe(
    session: Session, runtime: Runtime, request: Request, ticket: Ticket
) -> dict[str, Any]:
    return _view(runtime, request, ticket, _estimate(session, runtime, ticket))


def _view(
    runtime: Runtime, request: Request, ticket: Ticket, estimate: WaitEstimate
) -> dict[str, Any]:
    return ticket_view(
        runtime.config,
        ticket,
        estimate,
        status_url=status_url(runtime, request, ticket.token),
        now=runtime.now(),
        lang=ticket.lang,
    )


def _by_token(session: Session, token: str) -> Ticket:
    ticket = ticket_store.by_token(session, token=token) if len(token) <= 64 else None
    if ticket is None:
        raise NotFound("no ticket has this token")
    return ticket


@router.get("/tickets/{token}")
def get_ticket(
    token: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """The ticket's status, people ahead and estimated wait."""
    return _describe(session, runtime, request, _by_token(session, token))


@router.delete("/tickets/{token}")
async def cancel_ticket(token: str, request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The visitor gives up the ticket."""
    config = runtime.config

    def work(session: Session) -> office.Outcome:
        ticket = _by_token(session, token)
        return office.change_ticket(
            session, config=config, ticket=ticket, action="cancel", now=runtime.now(), staff=None
        )

    return await _commit_and_describe(runtime, request, work)


class TicketActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str | None = Field(default=None, min_length=1, max_length=40)


@router.post("/tickets/by-id/{ticket_id}/{action}")
async def floor_ticket_action(
    ticket_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: Literal["cancel", "requeue", "prioritise", "transfer"],
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    config: ConfigDep,
    body: TicketActionBody | None = None,
) -> dict[str, Any]:
    """Floor managers (and staff for re-queues) act on any ticket of their site."""

    def work(session: Session) -> office.Outcome:
        ticket = ticket_store.by_id(session, ticket_id=ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        roles = (Role.FLOOR, Role.STAFF) if action == "requeue" else (Role.FLOOR,)
        who = require(principal, *roles, site=ticket.site)
        return office.change_ticket(
            session,
            config=config,
            ticket=ticket,
            action=action,
            now=runtime.now(),
            staff=who.name,
            service=body.service if body else None,
        )

    return await _commit_and_describe(runtime, request, work)


async def _commit_and_describe(
    runtime: Runtime, request: Request, work: Callable[[Session], office.Outcome]
) -> dict[str, Any]:
    """Commit a change to a ticket, publish it, and answer with the ticket as it is now.

    The answer is read after the commit: its estimate needs the event log caught up, which a
    transaction that has just logged events must not do (history.py).
    """
    outcome = await transact(runtime, work)
    await publish_outcome(runtime, outcome)
    ticket = outcome.ticket
    assert ticket is not None

    def describe() -> dict[str, Any]:
        with runtime.sessions() as session:
            return _describe(session, runtime, request, ticket)

    return await run_in_threadpool(describe)
