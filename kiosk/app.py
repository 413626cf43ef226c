"""The kiosk's local web app: the touch page and the tiny API it calls (`/status`, `/issue`).

It listens on 127.0.0.1 only: the kiosk's own browser is its one client, and the server token
stays inside the agent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from display_server.i18n import negotiate
from kiosk.agent import KioskAgent
from kiosk.errors import IssueRefused, RequestRejected, ServerUnavailable
from kiosk.page import STATIC, catalog, failure_answer, refusal_answer, render_page, ticket_answer

#: The page generates one key per tap and sends it again if it retries the same tap.
KEY_PATTERN = r"^[\x21-\x7e]{8,200}$"


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=40)
    route: list[str] | None = Field(default=None, max_length=6)
    priority: bool = False
    lang: str = Field(default="ja", max_length=20)
    key: str = Field(pattern=KEY_PATTERN)


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: int


def create_kiosk_app(
    agent: KioskAgent, *, idle_s: float = 30.0, poll_s: float = 4.0, monitor_s: float = 10.0
) -> FastAPI:
    """The app for one agent; `monitor_s` > 0 checks the printer in a background thread."""
    names: dict[str, dict[str, str]] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if monitor_s > 0:
            threading.Thread(target=agent.monitor, args=(stop, monitor_s), daemon=True,
                             name="kiosk-printer-monitor").start()
        try:
            yield
        finally:
            stop.set()

    app = FastAPI(title="Madoguchi kiosk", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static/kiosk", StaticFiles(directory=STATIC), name="kiosk-static")

    @app.get("/", response_class=HTMLResponse)
    def page(lang: str = "ja") -> HTMLResponse:
        return HTMLResponse(render_page(lang=lang, api="", static="/static/kiosk",
                                        idle_s=idle_s, poll_s=poll_s))

    @app.get("/status")
    def status(lang: str = "ja") -> JSONResponse:
        lang = negotiate(lang)
        try:
            site = agent.site_status(lang)
        except (ServerUnavailable, RequestRejected) as exc:
            body = failure_answer("unavailable", lang=lang, detail=str(exc))
            return JSONResponse({**body, "printer": agent.printer_state, **agent.queue()}, 503)
        for service in site.get("services", []):
            names[service["id"]] = service.get("names", {})
        return JSONResponse(
            {"ok": True, "status": site, "printer": agent.printer_state, **agent.queue()}
        )

    @app.post("/issue")
    def issue(body: IssueBody) -> JSONResponse:
        lang = negotiate(body.lang)
        route = body.route if body.route and len(body.route) > 1 else None
        try:
            issued = agent.issue(body.service, lang=lang, priority=body.priority, route=route,
                                 key=body.key, guidance=_route_text(route, names, lang))
        except IssueRefused as exc:
            return JSONResponse(refusal_answer(exc, lang=lang), 409)
        except ServerUnavailable as exc:
            return JSONResponse(failure_answer("unavailable", lang=lang, detail=str(exc)), 503)
        except RequestRejected as exc:
            return JSONResponse(failure_answer("rejected", lang=lang, detail=str(exc)), 502)
        answer = ticket_answer(issued.ticket, printed=issued.printed,
                               printer_state=issued.printer_state, lang=lang)
        return JSONResponse(answer, 201)

    @app.post("/dismiss")
    def dismiss(body: DismissBody) -> dict[str, Any]:
        return {"dismissed": agent.dismiss(body.ticket_id)}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "printer": agent.printer_state}

    return app


def _route_text(
    route: list[str] | None, names: dict[str, dict[str, str]], lang: str
) -> str | None:
    """The slip's line listing the procedures in order, from the service names last seen."""
    if not route:
        return None
    steps = " → ".join(names.get(s, {}).get(lang) or names.get(s, {}).get("ja") or s
                       for s in route)
    return catalog().gettext(lang, "kiosk.slip.route", steps=steps)
