"""One place that maps the package's errors to HTTP responses `{"detail": …}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from display_server.api.tickets import TooManyRemoteTickets
from display_server.core.errors import InvalidTransition, IssueRefused, NotFound, NothingWaiting
from display_server.errors import MadoguchiError
from display_server.security import AuthError, Forbidden

STATUS_OF: tuple[tuple[type[MadoguchiError], int], ...] = (
    (NotFound, 404),
    (AuthError, 401),
    (Forbidden, 403),
    (TooManyRemoteTickets, 429),
    (IssueRefused, 409),
    (NothingWaiting, 409),
    (InvalidTransition, 409),
)


def status_for(exc: MadoguchiError) -> int:
    return next((status for kind, status in STATUS_OF if isinstance(exc, kind)), 400)


def wants_html(request: Request) -> bool:
    """A person's browser opening a page, rather than a program calling the API."""
    path = request.url.path
    return not path.startswith(("/api/", "/ws/")) and "text/html" in request.headers.get(
        "accept", ""
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MadoguchiError)
    status = status_for(exc)
    if wants_html(request):
        from display_server.web.pages import error_page

        return error_page(request, status)
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, IssueRefused):
        body["reason"] = exc.reason
        body["next_opening"] = exc.next_open.isoformat() if exc.next_open else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MadoguchiError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
