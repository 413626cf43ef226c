"""Request dependencies: the database session, the hub, the clock and who is asking.

Dependencies that only look at the request are `async`: FastAPI runs a plain `def` dependency
in a worker thread, a hop that costs more than the work here. Those that read the database stay
off the event loop (in the thread pool).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from display_server.config import WardConfig
from display_server.i18n import Translator, negotiate
from display_server.runtime import Runtime
from display_server.security import SESSION_COOKIE, AuthError, Principal, Role
from display_server.store import auth as auth_store

LANG_COOKIE = "madoguchi_lang"


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; whatever the handler did not commit is rolled back."""
    with runtime.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_config(runtime: RuntimeDep) -> WardConfig:
    return runtime.config


ConfigDep = Annotated[WardConfig, Depends(get_config)]


async def get_hub(runtime: RuntimeDep) -> Any:
    return runtime.hub


HubDep = Annotated[Any, Depends(get_hub)]


def bearer_secret(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header (None without the header)."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return secret.strip()


def principal_from_request(
    request: Request, session: Session, runtime: Runtime
) -> Principal | None:
    """The bearer token's device, or the signed-in user, or None for anonymous requests."""
    secret = bearer_secret(request)
    if secret is not None:
        token = auth_store.token_by_secret(session, token=secret)
        if token is None:
            raise AuthError("unknown or revoked token")
        principal = Principal(name=f"token:{token.id}", role=Role(token.role), site=token.site)
        runtime.device_tokens.keep(secret, principal)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    user_id, session_id = runtime.signer.load(cookie)
    user = auth_store.user_by_id(session, user_id=user_id)
    if user is None or not user.active:
        raise AuthError("this account no longer exists or is disabled")
    return Principal(
        name=user.name,
        role=Role(user.role),
        site=user.site,
        via_session=True,
        session_id=session_id,
    )


async def _lookup_principal(request: Request, runtime: Runtime) -> Principal | None:
    secret = bearer_secret(request)
    known = runtime.device_tokens.get(secret) if secret is not None else None
    if known is not None:
        return known
    if secret is None and SESSION_COOKIE not in request.cookies:
        return None

    def lookup() -> Principal | None:
        # A session of its own, closed at once: a write handler must not hold this connection
        # while its transaction waits for another one from the pool (that deadlocks under load).
        with runtime.sessions() as session:
            return principal_from_request(request, session, runtime)

    return await run_in_threadpool(lookup)


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal | None:
    """Who calls the API; cookie-authenticated writes must carry the X-CSRF-Token header."""
    principal = await _lookup_principal(request, runtime)
    if principal is not None and principal.via_session and request.method not in ("GET", "HEAD"):
        runtime.signer.check_csrf(principal.session_id, request.headers.get("x-csrf-token"))
    return principal


async def get_page_principal(request: Request, runtime: RuntimeDep) -> Principal | None:
    """Who opens a page; page forms check their own `csrf_token` field."""
    return await _lookup_principal(request, runtime)


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]
PagePrincipalDep = Annotated[Principal | None, Depends(get_page_principal)]


def request_lang(request: Request) -> str:
    """?lang=…, then the language cookie, then Accept-Language; Japanese by default."""
    return negotiate(
        request.query_params.get("lang")
        or request.cookies.get(LANG_COOKIE)
        or request.headers.get("accept-language")
    )


async def get_lang(request: Request) -> str:
    return request_lang(request)


LangDep = Annotated[str, Depends(get_lang)]


async def get_translator(runtime: RuntimeDep, lang: LangDep) -> Translator:
    return runtime.catalog.for_language(lang)


TranslatorDep = Annotated[Translator, Depends(get_translator)]
