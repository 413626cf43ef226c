"""The floor manager's tablet page: every queue and counter of a site, alerts, ticket actions."""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from display_server import office
from display_server.api.deps import (
    ConfigDep,
    LangDep,
    PagePrincipalDep,
    RuntimeDep,
    TranslatorDep,
)
from display_server.api.errors import status_for
from display_server.api.floor import (
    TICKET_ACTIONS,
    act_on_ticket,
    authorise_floor,
    floor_view,
    issue_for_visitor,
)
from display_server.errors import MadoguchiError
from display_server.i18n import Translator
from display_server.security import AuthError, Principal
from display_server.web.pages import login_redirect, render

router = APIRouter(include_in_schema=False)


class BadForm(MadoguchiError):
    """A floor form without the fields its action needs (400)."""


#: The page reloads its board this often while its websocket link is down (3× as often when up).
REFRESH_S = 5
_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,16}$")


def _done_message(_: Translator, done: str | None, number: str | None) -> str | None:
    """The confirmation after a redirect; only known actions and well-formed numbers."""
    if done in (*TICKET_ACTIONS, "issue") and number and _NUMBER.match(number):
        return _(f"floor.done.{done}", number=number)
    return None


def _page(
    request: Request,
    principal: Principal,
    site_id: str,
    _: Translator,
    lang: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    runtime = request.app.state.runtime
    site = office.find_site(runtime.config, site_id)
    with runtime.sessions() as session:
        view = floor_view(session, runtime, site, lang, _)
    return render(
        request,
        "floor.html",
        {
            "_": _,
            "lang": lang,
            "site": site,
            "view": view,
            "principal": principal,
            "csrf": runtime.signer.form_csrf(principal),
            "issue_key": secrets.token_urlsafe(16),
            "message": message,
            "error": error,
            "refresh_s": REFRESH_S,
            "services": site.services,
        },
        status_code=status_code,
    )


@router.get("/floor/{site}", response_model=None)
def floor_page(
    site: str,
    request: Request,
    principal: PagePrincipalDep,
    config: ConfigDep,
    _: TranslatorDep,
    lang: LangDep,
    done: str | None = None,
    number: str | None = None,
) -> Response:
    if principal is None:
        return login_redirect(request)
    office.find_site(config, site)
    authorise_floor(principal, site)
    return _page(request, principal, site, _, lang, message=_done_message(_, done, number))


@router.get("/floor/{site}/board", response_model=None)
def floor_board(
    site: str,
    request: Request,
    principal: PagePrincipalDep,
    runtime: RuntimeDep,
    _: TranslatorDep,
    lang: LangDep,
) -> Response:
    """The live part of the page as an HTML fragment, for the page's refresh."""
    found = office.find_site(runtime.config, site)
    principal = authorise_floor(principal, site)
    with runtime.sessions() as session:
        view = floor_view(session, runtime, found, lang, _)
    return render(
        request,
        "floor_board.html",
        {
            "_": _,
            "lang": lang,
            "site": found,
            "view": view,
            "csrf": runtime.signer.form_csrf(principal),
            "services": found.services,
        },
    )


Field = Annotated[str | None, Form(max_length=40)]


@router.post("/floor/{site}", response_model=None)
async def floor_form(
    site: str,
    request: Request,
    principal: PagePrincipalDep,
    runtime: RuntimeDep,
    _: TranslatorDep,
    lang: LangDep,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    ticket_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    service: Field = None,
    next_service: Field = None,
    priority: Annotated[bool, Form()] = False,
    issue_key: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Issue, cancel, re-queue, prioritise or transfer; then back to the page (303)."""
    if principal is None:
        return login_redirect(request)
    if principal.via_session:
        runtime.signer.check_csrf(principal.session_id, csrf_token)
    office.find_site(runtime.config, site)
    authorise_floor(principal, site)
    try:
        if action == "issue":
            if not service:
                raise BadForm("choose a service")
            route = (
                (service, next_service) if next_service and next_service != service else (service,)
            )
            ticket = await issue_for_visitor(
                runtime,
                principal,
                site,
                route,
                priority,
                lang,
                f"floor:{issue_key}" if issue_key else None,
            )
        elif action in TICKET_ACTIONS and ticket_id is not None:
            ticket = await act_on_ticket(runtime, principal, site, ticket_id, action, service)
        else:
            raise BadForm(f"unknown action {action!r} or no ticket chosen")
    except AuthError:
        raise
    except MadoguchiError as exc:
        return _page(
            request,
            principal,
            site,
            _,
            lang,
            error=_("floor.error.refused", detail=str(exc)),
            status_code=status_for(exc),
        )
    query: dict[str, Any] = {"done": action, "number": ticket.display_number}
    return RedirectResponse(f"/floor/{quote(site)}?{urlencode(query)}", status_code=303)
