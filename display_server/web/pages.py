"""Server-rendered pages: sign-in and the staff counter console."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from display_server import office
from display_server.api.counters import counter_view, run_counter_action
from display_server.api.deps import (
    LANG_COOKIE,
    ConfigDep,
    LangDep,
    PagePrincipalDep,
    RuntimeDep,
    SessionDep,
    TranslatorDep,
    request_lang,
)
from display_server.api.errors import status_for
from display_server.core.errors import NothingWaiting
from display_server.errors import MadoguchiError
from display_server.i18n import SUPPORTED_LANGUAGES, Translator
from display_server.runtime import site_status
from display_server.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AuthError,
    Forbidden,
    Principal,
    Role,
    require,
    verify_password,
)
from display_server.store import auth as auth_store

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

#: The catalogue keys of an estimated wait: no counter open, no wait, the range in minutes. The
#: staff and public pages use the ``status.*`` keys, the bilingual lobby display its own.
WAIT_KEYS: dict[str, dict[str, str]] = {
    "status": {
        "closed": "status.no_counter_open",
        "none": "status.no_wait",
        "range": "status.minutes_range",
    },
    "display": {
        "closed": "display.no_counter",
        "none": "display.no_wait",
        "range": "display.minutes",
    },
}


def wait_estimate(_: Translator, lo: int | None, hi: int | None, keys: str = "status") -> str:
    """The estimated wait `lo`–`hi` minutes in words, for every template: "no counter open"
    when there is no estimate (`lo` is None), "no wait" when even the upper bound is 0, else
    the range. `MadoguchiMessages.waitText` (static/messages.js) is the same rule for scripts,
    which get the messages from `wait_messages`."""
    messages = WAIT_KEYS[keys]
    if lo is None:
        return _(messages["closed"])
    if hi == 0:
        return _(messages["none"])
    return _(messages["range"], lo=lo, hi=hi)


def wait_messages(_: Translator, keys: str = "status") -> dict[str, str]:
    """The messages of `wait_estimate` for a page's script: ``{"closed", "none", "range"}``."""
    return {part: _(key) for part, key in WAIT_KEYS[keys].items()}


templates.env.globals["wait_estimate"] = wait_estimate
templates.env.globals["wait_messages"] = wait_messages

router = APIRouter(include_in_schema=False)

COUNTER_ACTIONS = (
    "call-next",
    "recall",
    "start",
    "complete",
    "no-show",
    "transfer",
    "open",
    "pause",
    "close",
)


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    runtime = request.app.state.runtime
    response = templates.TemplateResponse(
        request,
        name,
        {
            "example": runtime.config.example,
            "clock_shifted": runtime.clock.shifted,
            "now": runtime.now().astimezone(runtime.config.policy.zone),
            "zone": runtime.config.policy.timezone,
            "languages": SUPPORTED_LANGUAGES,
            **context,
        },
        status_code=status_code,
    )
    lang = request.query_params.get("lang")
    if lang in SUPPORTED_LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, status: int) -> HTMLResponse:
    """A page that tells a person, in their language, why they cannot go on."""
    runtime = request.app.state.runtime
    lang = request_lang(request)
    translate = runtime.catalog.for_language(lang)
    key = {401: "error.401", 403: "error.403", 404: "error.404"}.get(status, "error.other")
    return render(
        request,
        "error.html",
        {"_": translate, "lang": lang, "status": status, "message": translate(key)},
        status_code=status,
    )


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot bounce visitors elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, _: TranslatorDep, lang: LangDep, next: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", {"_": _, "lang": lang, "csrf": token, "next": _safe_next(next)}
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    _: TranslatorDep,
    lang: LangDep,
    name: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=300)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return render(
            request,
            "login.html",
            {
                "_": _,
                "lang": lang,
                "csrf": expected or "",
                "next": _safe_next(next),
                "error": _("login.error.csrf"),
            },
            status_code=403,
        )
    user = auth_store.user_by_name(session, name=name)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return render(
            request,
            "login.html",
            {
                "_": _,
                "lang": lang,
                "csrf": expected,
                "next": _safe_next(next),
                "error": _("login.error.credentials"),
            },
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        runtime.signer.dump(user.id),
        max_age=runtime.settings.session_max_age_s,
        httponly=True,
        secure=runtime.settings.secure_cookies,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def login_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back to this page (and its query) afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _counter_page(
    request: Request,
    principal: Principal,
    counter_id: str,
    _: Any,
    lang: str,
    *,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    runtime = request.app.state.runtime
    config = runtime.config
    site, counter = office.find_counter(config, counter_id)
    with runtime.sessions() as session:
        view = counter_view(session, runtime, request, counter_id)
        status = site_status(runtime, session, site, runtime.now(), lang=lang)
    return render(
        request,
        "counter.html",
        {
            "_": _,
            "lang": lang,
            "site": site,
            "counter": counter,
            "view": view,
            "status": status,
            "profile": [s for s in status["services"] if s["id"] in counter.services],
            "csrf": runtime.signer.form_csrf(principal),
            "principal": principal,
            "message": message,
        },
        status_code=status_code,
    )


@router.get("/counter/{counter}", response_model=None)
def counter_console(
    counter: str,
    request: Request,
    principal: PagePrincipalDep,
    _: TranslatorDep,
    lang: LangDep,
    config: ConfigDep,
) -> Response:
    if principal is None:
        return login_redirect(request)
    site, _counter = office.find_counter(config, counter)
    require(principal, Role.STAFF, Role.FLOOR, site=site.id)
    return _counter_page(request, principal, counter, _, lang)


@router.post("/counter/{counter}", response_model=None)
async def counter_form(
    counter: str,
    request: Request,
    principal: PagePrincipalDep,
    runtime: RuntimeDep,
    _: TranslatorDep,
    lang: LangDep,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    service: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    if principal is None:
        return login_redirect(request)
    if principal.via_session:
        runtime.signer.check_csrf(principal.session_id, csrf_token)
    if action not in COUNTER_ACTIONS:
        raise Forbidden(f"unknown action {action!r}")
    try:
        await run_counter_action(runtime, request, principal, counter, action, service)
    except (AuthError, Forbidden):
        raise
    except MadoguchiError as exc:
        key = (
            "counter.error.nothing_waiting"
            if isinstance(exc, NothingWaiting)
            else "counter.error.refused"
        )
        return _counter_page(
            request,
            principal,
            counter,
            _,
            lang,
            message=_(key, detail=str(exc)),
            status_code=status_for(exc),
        )
    return RedirectResponse(f"/counter/{quote(counter)}", status_code=303)
