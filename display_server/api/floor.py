"""The floor manager's picture of a site (queues, counters, alerts) and their ticket actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from display_server import office
from display_server.api.deps import LangDep, PrincipalDep, RuntimeDep, SessionDep, TranslatorDep
from display_server.config import Site
from display_server.core import rules
from display_server.core.errors import NotFound
from display_server.core.tickets import Channel, Ticket, TicketStatus
from display_server.i18n import MissingMessageError, Translator
from display_server.live import publish_outcome
from display_server.runtime import Runtime, site_status, transact
from display_server.security import Principal, Role, require
from display_server.store import floor as floor_store
from display_server.store import tickets as ticket_store
from display_server.views import office_time

router = APIRouter(prefix="/api/v1", tags=["floor"])
TICKET_ACTIONS = ("cancel", "requeue", "prioritise", "transfer")


def _minutes(since: dt.datetime | None, now: dt.datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60)) if since else 0


def _ticket(t: Ticket, site: Site, now: dt.datetime, lang: str) -> dict[str, Any]:
    service = site.service(t.service)
    nxt = site.service(t.next_service) if t.next_service else None
    return {
        "id": t.id,
        "display_number": t.display_number,
        "service": t.service,
        "service_name": service.name.get(lang) if service else t.service,
        "next_service_name": nxt.name.get(lang) if nxt else None,
        "status": t.status.value,
        "priority": t.priority,
        "counter": t.counter,
        "recalls": t.recalls,
        "waited_min": _minutes(t.queued_at, now),
    }


def _device_text(_: Translator, state: str) -> str:
    try:
        return _(f"floor.device.{state}")
    except MissingMessageError:  # a state the kiosk reports that no catalogue names yet
        return _("floor.device.other", state=state)


def _alerts(
    session: Session,
    runtime: Runtime,
    site: Site,
    lang: str,
    _: Translator,
    open_now: list[Ticket],
    services: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Long waits (settings.floor_wait_alert_min), called tickets nobody answered (called
    longer than settings.floor_call_alert_min, or recalled) and kiosks or printers in trouble."""
    config, settings, now = runtime.config, runtime.settings, runtime.now()
    alerts = [
        {
            "kind": "long_wait",
            "text": _(
                "floor.alert.long_wait",
                service=svc["name"],
                minutes=svc["longest_wait_min"],
                number=svc["oldest"],
            ),
        }
        for svc in services
        if svc["oldest"] and svc["longest_wait_min"] >= settings.floor_wait_alert_min
    ]
    for t in open_now:
        if t.status is not TicketStatus.CALLED or t.called_at is None:
            continue
        minutes = (now - t.called_at).total_seconds() / 60
        if minutes >= settings.floor_call_alert_min or t.recalls > 0:
            counter = config.counter(t.counter or "")
            alerts.append(
                {
                    "kind": "unanswered",
                    "text": _.ngettext(
                        "floor.alert.unanswered",
                        t.recalls,
                        number=t.display_number,
                        recalls=t.recalls,
                        counter=counter[1].name.get(lang) if counter else t.counter,
                        minutes=_minutes(t.called_at, now),
                    ),
                }
            )
    for device in floor_store.device_problems(session, site=site.id):
        since = device.updated_at.astimezone(config.policy.zone).strftime("%H:%M")
        alerts.append(
            {
                "kind": "device",
                "text": _(
                    "floor.alert.device",
                    device=device.device,
                    problem=_device_text(_, device.state),
                    detail=device.detail,
                    since=since,
                ),
            }
        )
    return alerts


def floor_view(
    session: Session, runtime: Runtime, site: Site, lang: str, _: Translator
) -> dict[str, Any]:
    """Counters with who serves what and for how long, queues with their longest wait,
    open tickets, recent no-shows and the alerts a floor manager should act on."""
    config, now = runtime.config, runtime.now()
    status = site_status(runtime, session, site, now, lang=lang)
    today = rules.business_date(config, now)
    open_now = sorted(
        (t for t in ticket_store.open_tickets(session, site=site.id) if t.business_date == today),
        key=Ticket.queue_key,
    )
    at_counter = {t.counter: t for t in open_now if t.counter}
    staff = floor_store.handlers(session, ticket_ids=[t.id for t in at_counter.values()])
    counters = []
    for counter in status["counters"]:
        current = at_counter.get(counter["id"])
        since = (current.started_at or current.called_at) if current else None
        counters.append(
            {
                **counter,
                "ticket": _ticket(current, site, now, lang) if current else None,
                "for_min": _minutes(since, now) if current else None,
                "staff": staff.get(current.id) if current else None,
            }
        )
    by_arrival = sorted(
        (t for t in open_now if t.status is TicketStatus.WAITING), key=lambda t: t.queued_at
    )
    services = []
    for service in status["services"]:
        oldest = next((t for t in by_arrival if t.service == service["id"]), None)
        services.append(
            {
                **service,
                "oldest": oldest.display_number if oldest else None,
                "longest_wait_min": _minutes(oldest.queued_at, now) if oldest else 0,
            }
        )
    rejoin = dt.timedelta(minutes=config.policy.rejoin_minutes)
    no_shows = ticket_store.recent_no_shows(session, site=site.id, since=now - rejoin)
    return {
        "site": site.id,
        "name": site.name.get(lang),
        "at": office_time(now, config.policy.zone),
        "seq": status["seq"],
        "alerts": _alerts(session, runtime, site, lang, _, open_now, services),
        "counters": counters,
        "services": services,
        "tickets": [_ticket(t, site, now, lang) for t in open_now],
        "no_shows": [
            {**_ticket(t, site, now, lang), "missed_min": _minutes(t.finished_at, now)}
            for t in no_shows
        ],
    }


def authorise_floor(principal: Principal | None, site: str) -> Principal:
    """Floor managers of the site, and administrators."""
    return require(principal, Role.FLOOR, site=site)


@router.get("/sites/{site}/floor")
def get_floor(
    site: str,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    lang: LangDep,
    _: TranslatorDep,
) -> dict[str, Any]:
    """The floor view as JSON (for tablets and the page's periodic refresh)."""
    found = office.find_site(runtime.config, site)
    authorise_floor(principal, site)
    return floor_view(session, runtime, found, lang, _)


async def act_on_ticket(
    runtime: Runtime,
    principal: Principal,
    site: str,
    ticket_id: int,
    action: str,
    service: str | None,
) -> Ticket:
    """A floor action on one ticket of `site`, logged with who did it, then published."""
    if action not in TICKET_ACTIONS:
        raise NotFound(f"unknown ticket action {action!r}")
    who = authorise_floor(principal, site)

    def work(session: Session) -> office.Outcome:
        ticket = ticket_store.by_id(session, ticket_id=ticket_id)
        if ticket is None or ticket.site != site:
            raise NotFound(f"no ticket {ticket_id} at site {site!r}")
        return office.change_ticket(
            session,
            config=runtime.config,
            ticket=ticket,
            action=action,
            now=runtime.now(),
            staff=who.name,
            service=service,
        )

    outcome = await transact(runtime, work)
    await publish_outcome(runtime, outcome)
    assert outcome.ticket is not None
    return outcome.ticket


async def issue_for_visitor(
    runtime: Runtime,
    principal: Principal,
    site: str,
    route: tuple[str, ...],
    priority: bool,
    lang: str,
    idempotency_key: str | None,
) -> Ticket:
    """A ticket the floor manager takes on a visitor's behalf (channel "staff"); the page's
    form carries a key per rendering, so a double tap does not issue two tickets."""
    who = authorise_floor(principal, site)
    request = office.IssueRequest(
        service=route[0], channel=Channel.STAFF, priority=priority, lang=lang, route=route
    )

    def work(session: Session) -> office.Outcome:
        return office.issue_ticket(
            session,
            config=runtime.config,
            site_id=site,
            request=request,
            now=runtime.now(),
            idempotency_key=idempotency_key,
            issued_by=who.name,
        )

    outcome = await transact(runtime, work)
    await publish_outcome(runtime, outcome)
    assert outcome.ticket is not None
    if not outcome.created:
        return outcome.ticket
    runtime.metrics.tickets_issued.labels(site, outcome.ticket.service, "staff").inc()
    return outcome.ticket
