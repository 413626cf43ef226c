"""The application factory: `create_app(settings)` builds one server process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from display_server import office
from display_server.api import counters, devices, errors, opendata, ops, sites, stats, tickets, ws
from display_server.api import faq as faq_api
from display_server.api import floor as floor_api
from display_server.api import forecast as forecast_api
from display_server.forecast_service import refit_nightly
from display_server.live import publish_outcome
from display_server.runtime import Runtime, transact
from display_server.settings import Clock, Settings
from display_server.store import counters as counter_store
from display_server.store import faq as faq_store
from display_server.web import faq as faq_pages
from display_server.web import floor as floor_pages
from display_server.web import kiosk_page, pages, public
from display_server.web import stats as stats_pages

STATIC = Path(__file__).parent / "web" / "static"
log = logging.getLogger("madoguchi")
access_log = logging.getLogger("madoguchi.access")


async def housekeeping(runtime: Runtime) -> None:
    """Expire tickets left open after closing (or from an earlier day) and close counters."""
    for site in runtime.config.sites:

        def work(session: Session, site: office.Site = site) -> office.Outcome:
            return office.expire_after_closing(
                session, config=runtime.config, site=site, now=runtime.now()
            )

        outcome = await transact(runtime, work)
        if outcome.events:
            log.info("housekeeping at %s: %d events", site.id, len(outcome.events))
            await publish_outcome(runtime, outcome)


async def _housekeeping_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run housekeeping until `stop` is set; a round in progress finishes its transaction
    (cancelling it mid-way would leave its database connection to the garbage collector)."""
    while not stop.is_set():
        try:
            await housekeeping(runtime)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), runtime.settings.housekeeping_interval_s)


BackgroundTask = Callable[[Runtime], Coroutine[Any, Any, None]]


class RequestContext:
    """Request id (`X-Request-ID`, taken from the request or made), latency metric, access log.

    Plain ASGI rather than `BaseHTTPMiddleware`, which costs a task and a stream per request.
    """

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route_path = getattr(scope.get("route"), "path", "unmatched")
            self.runtime.metrics.request_seconds.labels(
                scope["method"], route_path, str(status)
            ).observe(elapsed)
            access_log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": round(elapsed * 1000, 1),
                    }
                )
            )


def create_app(
    settings: Settings, *, clock: Clock | None = None, background: Sequence[BackgroundTask] = ()
) -> FastAPI:
    """One server process; `background` coroutines run for the app's lifetime (the demo)."""
    runtime = Runtime.build(settings, clock=clock)
    feeds = ws.Feeds(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with runtime.sessions() as session:
            counter_store.sync_counters(session, config=runtime.config)
            faq_store.seed_if_empty(
                session, config=runtime.config, now=runtime.now(), path=settings.faq_path
            )
            session.commit()
        await runtime.hub.connect()
        if runtime.clock.shifted:
            log.warning("CLOCK SHIFTED: the server's time started at %s", runtime.clock.start)
        # Everything loaded so far (libraries, configuration, routes) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it. Those
        # walks stopped a busy worker for 30–200 ms at a time, the slowest requests of all.
        gc.freeze()
        stop = asyncio.Event()
        keeper = asyncio.create_task(_housekeeping_loop(runtime, stop))
        tasks = [asyncio.create_task(job(runtime)) for job in background]
        try:
            yield
        finally:
            stop.set()
            await keeper
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.status_refresh.idle()
            await feeds.close()
            await runtime.hub.disconnect()
            runtime.engine.dispose()

    app = FastAPI(
        title="Madoguchi",
        version="0.1.0",
        description="Queue tickets and live congestion for ward office counters (窓口).",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.feeds = feeds
    errors.install(app)
    for module in (tickets, sites, counters, ops, ws, pages, public):
        app.include_router(module.router)
    for module in (floor_api, faq_api, stats, opendata, floor_pages, faq_pages, stats_pages):
        app.include_router(module.router)
    for module in (devices, kiosk_page, forecast_api):
        app.include_router(module.router)
    # site.html's forecast block asks for its data itself (the site page passes none).
    pages.templates.env.globals["forecast_calendar"] = forecast_api.calendar_view
    app.mount(kiosk_page.STATIC_PATH, kiosk_page.static_files(), name="kiosk-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(RequestContext, runtime=runtime)
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory used by `madoguchi serve`: settings from the environment."""
    settings = Settings()
    if settings.demo:
        from display_server.demo import simulate_visitors

        return create_app(settings, background=[simulate_visitors, refit_nightly])
    return create_app(settings, background=[refit_nightly])
