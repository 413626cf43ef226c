"""The kiosk page served by the server at `/kiosk/{site}`, for tablets without a printer.

It is the kiosk package's own page (templates, static files, catalogue): one kiosk UI. A tablet
is enrolled once by opening `/kiosk/{site}?token=KIOSK_TOKEN`; the token then lives in an
HttpOnly, SameSite=Strict cookie, so the page never sees it and other sites cannot use it.
Visitors get the ticket on screen with its QR code, as on a kiosk whose printer is out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from display_server import office
from display_server.api import tickets as ticket_api
from display_server.api.deps import LangDep, RuntimeDep, SessionDep
from display_server.core.errors import IssueRefused
from display_server.errors import MadoguchiError
from display_server.i18n import negotiate
from display_server.runtime import site_status
from display_server.security import Principal, Role
from display_server.store import auth as auth_store
from kiosk import errors as kiosk_errors
from kiosk import page as kiosk_page

router = APIRouter(include_in_schema=False)
KIOSK_COOKIE = "madoguchi_kiosk"
STATIC_PATH = "/kiosk-static"


def static_files() -> StaticFiles:
    return StaticFiles(directory=kiosk_page.STATIC)


def _kiosk_principal(session: SessionDep, secret: str | None, site: str) -> Principal | None:
    token = auth_store.token_by_secret(session, token=secret) if secret else None
    if token is None or token.role != Role.KIOSK.value or token.site not in (None, site):
        return None
    return Principal(name=f"token:{token.id}", role=Role.KIOSK, site=token.site)


@router.get("/kiosk/{site}", response_class=HTMLResponse)
def kiosk_page_view(
    site: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    lang: LangDep,
    token: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The touch page; `?token=` enrols the tablet (sets the cookie) and reloads without it."""
    office.find_site(runtime.config, site)
    if token is not None:
        if _kiosk_principal(session, token, site) is None:
            return _not_authorised(lang)
        response = RedirectResponse(f"/kiosk/{site}?lang={lang}", status_code=303)
        response.set_cookie(
            KIOSK_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=runtime.settings.secure_cookies,
            path=f"/kiosk/{site}",
            max_age=400 * 86400,
        )
        return response
    if _kiosk_principal(session, request.cookies.get(KIOSK_COOKIE), site) is None:
        return _not_authorised(lang)
    return HTMLResponse(kiosk_page.render_page(lang=lang, api=f"/kiosk/{site}", static=STATIC_PATH))


def _not_authorised(lang: str) -> HTMLResponse:
    text = kiosk_page.catalog().gettext(lang, "kiosk.not_authorised")
    return HTMLResponse(
        f'<!doctype html><html lang="{lang}"><title>{text}</title>'
        f"<main><h1>{text}</h1></main></html>",
        status_code=401,
    )


@router.get("/kiosk/{site}/status")
def kiosk_status(
    site: str, session: SessionDep, runtime: RuntimeDep, lang: LangDep
) -> dict[str, Any]:
    """The same answer as the kiosk agent's `/status`, without a printer."""
    found = office.find_site(runtime.config, site)
    status = site_status(runtime, session, found, runtime.now(), lang=lang)
    return {"ok": True, "status": status, "printer": None, "pending": [], "reprinted": []}


@router.post("/kiosk/{site}/issue")
async def kiosk_issue(
    site: str,
    body: dict[str, Any],
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
) -> JSONResponse:
    """Issue through the tickets API's own handler, as the enrolled kiosk; no slip."""
    lang = negotiate(str(body.get("lang") or "ja"))
    principal = _kiosk_principal(session, request.cookies.get(KIOSK_COOKIE), site)
    if principal is None:
        return JSONResponse(kiosk_page.failure_answer("rejected", lang=lang), 401)
    try:
        issue = ticket_api.IssueBody.model_validate(
            {k: body[k] for k in ("service", "priority", "lang") if k in body}
            | ({"route": body["route"]} if len(body.get("route") or []) > 1 else {})
        )
        key = str(body.get("key") or "")
        ticket = await ticket_api.issue_ticket(
            site,
            issue,
            request,
            Response(),
            runtime,
            principal,
            idempotency_key=key if 8 <= len(key) <= 200 and key.isascii() else None,
        )
    except IssueRefused as exc:
        refused = kiosk_errors.IssueRefused(
            exc.reason, str(exc), exc.next_open.isoformat() if exc.next_open else None
        )
        return JSONResponse(kiosk_page.refusal_answer(refused, lang=lang), 409)
    except (MadoguchiError, ValueError) as exc:
        return JSONResponse(kiosk_page.failure_answer("rejected", lang=lang, detail=str(exc)), 400)
    answer = kiosk_page.ticket_answer(ticket, printed=None, printer_state=None, lang=lang)
    return JSONResponse(answer, 201)


@router.post("/kiosk/{site}/dismiss")
def kiosk_dismiss(site: str) -> dict[str, bool]:
    """Nothing is queued for reprint here: there is no printer."""
    return {"dismissed": False}
