"""Public pages: congestion overview `/`, site page, lobby display and the phone ticket page.

All are server-rendered and complete without JavaScript; small scripts then follow the
websockets (static/live.js) so the numbers stay current without reloading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from display_server import office
from display_server.api.deps import ConfigDep, LangDep, RuntimeDep, SessionDep, TranslatorDep
from display_server.config import Site
from display_server.core.errors import InvalidTransition
from display_server.core.tickets import TicketStatus
from display_server.i18n import Translator
from display_server.live import load_ticket, publish_outcome
from display_server.runtime import Runtime, site_status, transact
from display_server.store import tickets as ticket_store
from display_server.web.pages import render, wait_messages

router = APIRouter(include_in_schema=False)

#: Statuses in which a visitor may still give up the ticket.
CANCELLABLE = {TicketStatus.WAITING.value, TicketStatus.CALLED.value}
#: What the no-JavaScript phone page waits before reloading itself.
REFRESH_S = 30
#: Strings the scripts need, looked up from the catalogue in the page's language.
SCRIPT_TEXT = (
    "public.updated",
    "public.offline",
    "status.people",
    "ticket.ahead",
    "ticket.near",
    "ticket.called",
    "ticket.notify_title",
    "ticket.finished",
    "ticket.route_end",
    "counter.no_ticket",
    "public.counter_label",
    "public.none_called",
    "status.service",
    "counter.ticket_status",
    "counter.recalls",
    *(f"level.{level}" for level in ("quiet", "moderate", "busy", "very_busy", "closed")),
    *(f"ticket.status.{s.value}" for s in TicketStatus),
    *(f"counter.state.{s}" for s in ("open", "paused", "closed")),
)


def script_text(_: Translator) -> dict[str, str | dict[str, str]]:
    """The messages for static/messages.js: texts, plural forms by category, and under
    ``wait`` the messages of an estimated wait (for `MadoguchiMessages.waitText`)."""
    text: dict[str, str | dict[str, str]] = {key: _.script(key) for key in SCRIPT_TEXT}
    text["wait"] = wait_messages(_)
    return text


@router.get("/")
def index(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    _: TranslatorDep,
    lang: LangDep,
) -> HTMLResponse:
    """Every site's waiting and crowding, live."""
    now = runtime.now()
    statuses = [site_status(runtime, session, s, now, lang=lang) for s in config.sites]
    return render(
        request,
        "index.html",
        {
            "_": _,
            "lang": lang,
            "statuses": statuses,
            "config": config,
            "shares_counters": any(s.shares_counters for s in config.sites),
            "text": script_text(_),
        },
    )


@router.get("/sites/{site}")
def site_page(
    site: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    _: TranslatorDep,
    lang: LangDep,
) -> HTMLResponse:
    """One site: waiting per service, counters, numbers called (and later its forecast)."""
    found = office.find_site(config, site)
    status = site_status(runtime, session, found, runtime.now(), lang=lang)
    return render(
        request,
        "site.html",
        {
            "_": _,
            "lang": lang,
            "site": found,
            "status": status,
            "text": script_text(_),
        },
    )


@router.get("/display/{site}")
def display_page(
    site: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    lang: LangDep,
) -> HTMLResponse:
    """The lobby screen: always bilingual, so it is rendered in Japanese and English at once."""
    found = office.find_site(config, site)
    status = site_status(runtime, session, found, runtime.now())
    ja, en = runtime.catalog.for_language("ja"), runtime.catalog.for_language("en")
    voice = {
        key: {"ja": ja(key), "en": en(key)}
        for key in ("display.voice_call", "display.voice_recall")
    }
    return render(
        request,
        "display.html",
        {
            "_": ja,
            "ja": ja,
            "en": en,
            "lang": "ja",
            "site": found,
            "status": status,
            "voice": voice,
        },
    )


def _route_steps(site: Site | None, ticket: Mapping[str, Any], lang: str) -> list[dict[str, str]]:
    """A routed ticket's services in order, each `done`, `now` or `next` (the route's last
    service is done once the ticket is); empty for a ticket of one service."""
    route, index = ticket["route"], ticket["route_index"]
    if len(route) < 2:
        return []
    finished = ticket["status"] == "done"
    steps = []
    for position, service_id in enumerate(route):
        service = site.service(service_id) if site else None
        if position < index or (position == index and finished):
            state = "done"
        else:
            state = "now" if position == index else "next"
        steps.append({"name": service.name.get(lang) if service else service_id, "state": state})
    return steps


def _clock_time(runtime: Runtime, iso: str | None) -> str | None:
    """HH:MM in the ward's time zone (the page's script says it as `MadoguchiLive.clockTime`)."""
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(runtime.config.policy.zone).strftime("%H:%M")


def _ticket_page(
    request: Request,
    runtime: Runtime,
    token: str,
    _: Translator,
    lang: str,
    *,
    confirm: bool = False,
    notice: str | None = None,
) -> HTMLResponse:
    message = load_ticket(runtime, token)
    if message is None:
        return render(
            request, "ticket.html", {"_": _, "lang": lang, "ticket": None}, status_code=404
        )
    ticket = message["ticket"]
    site = runtime.config.site(ticket["site"])
    service = site.service(ticket["service"]) if site else None
    return render(
        request,
        "ticket.html",
        {
            "_": _,
            "lang": lang,
            "ticket": ticket,
            "seq": message["seq"],
            "service_name": service.name.get(lang) if service else ticket["service"],
            "site_name": site.name.get(lang) if site else ticket["site"],
            "route_steps": _route_steps(site, ticket, lang),
            "route_end": _clock_time(runtime, ticket["est_route_done_at"]),
            "cancellable": ticket["status"] in CANCELLABLE,
            "confirm": confirm,
            "notice": notice,
            "refresh_s": REFRESH_S,
            "text": script_text(_),
            "near_ahead": runtime.config.policy.near_turn_ahead,
        },
    )


@router.get("/t/{token}")
def ticket_page(
    token: str, request: Request, runtime: RuntimeDep, _: TranslatorDep, lang: LangDep
) -> HTMLResponse:
    """The visitor's own page (from the slip's QR code): position, estimate, live alerts."""
    return _ticket_page(request, runtime, token, _, lang)


@router.get("/t/{token}/cancel")
def cancel_confirm(
    token: str, request: Request, runtime: RuntimeDep, _: TranslatorDep, lang: LangDep
) -> HTMLResponse:
    """The confirmation step: works without JavaScript, one form, two clear choices."""
    return _ticket_page(request, runtime, token, _, lang, confirm=True)


@router.post("/t/{token}/cancel", response_model=None)
async def cancel(
    token: str, request: Request, runtime: RuntimeDep, _: TranslatorDep, lang: LangDep
) -> Response:
    """Cancel after confirmation. The unguessable token in the path is the credential."""

    def work(session: Session) -> office.Outcome:
        ticket = ticket_store.by_token(session, token=token) if len(token) <= 64 else None
        if ticket is None:
            return office.Outcome(site="", created=False)
        return office.change_ticket(
            session,
            config=runtime.config,
            ticket=ticket,
            action="cancel",
            now=runtime.now(),
            staff=None,
        )

    try:
        outcome = await transact(runtime, work)
    except InvalidTransition:
        return await run_in_threadpool(
            _ticket_page, request, runtime, token, _, lang, notice=_("ticket.cancel_refused")
        )
    await publish_outcome(runtime, outcome)
    return RedirectResponse(f"/t/{quote(token)}", status_code=303)
