"""Operations: health check and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from display_server.api.deps import ConfigDep, RuntimeDep, SessionDep
from display_server.core.tickets import TicketStatus

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(session: SessionDep) -> Response:
    """200 when the database answers, 503 when it does not."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy", which is the answer
        return Response(
            f'{{"status":"error","detail":"database: {type(exc).__name__}"}}',
            status_code=503,
            media_type="application/json",
        )
    return Response('{"status":"ok"}', media_type="application/json")


@router.get("/metrics")
def metrics(session: SessionDep, runtime: RuntimeDep, config: ConfigDep) -> Response:
    """Prometheus text format; waiting counts are read fresh at each scrape."""
    now = runtime.now()
    for site in config.sites:
        state = runtime.queue_state(session, site, now)
        for service in site.services:
            waiting = sum(
                1
                for t in state.waiting
                if t.service == service.id and t.status is TicketStatus.WAITING
            )
            runtime.metrics.waiting.labels(site.id, service.id).set(waiting)
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
