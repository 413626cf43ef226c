"""Everything one server process holds: configuration, database, hub, clock and helpers."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from display_server import office, views
from display_server.coalesce import Coalescer
from display_server.config import Site, WardConfig, load_config
from display_server.core.estimate import QueueState
from display_server.core.tickets import Ticket
from display_server.history import SiteHistories
from display_server.hub import create_hub
from display_server.i18n import Catalog, load_catalog
from display_server.metrics import Metrics
from display_server.security import DeviceTokenCache, SessionSigner
from display_server.settings import Clock, Settings
from display_server.store.db import make_engine, make_sessionmaker

LOCALES = Path(__file__).with_name("locales")
log = logging.getLogger("madoguchi")
T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    config: WardConfig
    engine: Engine
    sessions: sessionmaker[Session]
    #: Sessions for transactions that change data (SQLite: they take the write lock first).
    writer_sessions: sessionmaker[Session]
    hub: Any
    clock: Clock
    signer: SessionSigner
    device_tokens: DeviceTokenCache
    catalog: Catalog
    metrics: Metrics
    histories: SiteHistories
    #: Writers of this process take turns here first on SQLite (one writer at a time anyway):
    #: a thread waiting on this lock wakes as soon as it is free, whereas SQLite's busy
    #: handler polls with sleeps of up to 100 ms and starves under load. A no-op elsewhere.
    writer_turn: AbstractContextManager[object]
    #: Committed outcomes waiting for their site's live status to be recomputed (`live.py`).
    status_refresh: Coalescer[str, office.Outcome]
    #: Set while this process refits the forecasts (`forecast_service.refit_if_stale`), so
    #: that a page without forecasts says they are on their way.
    forecast_refitting: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        config = load_config(settings.config_path)
        secret = settings.secret_key
        if secret is None:
            if not settings.demo:
                raise ValueError(
                    "MADOGUCHI_SECRET_KEY is required (32+ characters); only --demo may run without"
                )
            secret = secrets.token_urlsafe(48)
            log.warning("demo mode: a random secret key was generated; sessions end on restart")
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            config=config,
            engine=engine,
            sessions=make_sessionmaker(engine),
            writer_sessions=make_sessionmaker(engine, writer=True),
            hub=create_hub(settings.pubsub_url),
            clock=clock or Clock(settings.clock_start),
            signer=SessionSigner(secret, settings.session_max_age_s),
            device_tokens=DeviceTokenCache(settings.token_cache_s),
            catalog=load_catalog(LOCALES),
            metrics=Metrics(),
            histories=SiteHistories(),
            writer_turn=(
                threading.Lock()
                if settings.database_url.startswith("sqlite")
                else contextlib.nullcontext()
            ),
            status_refresh=Coalescer(min_interval_s=settings.live_refresh_interval_s),
        )

    def now(self) -> dt.datetime:
        return self.clock.now()

    def queue_state(
        self, session: Session, site: Site, now: dt.datetime, *, including: Sequence[Ticket] = ()
    ) -> QueueState:
        """The site's queue with its history caught up: what every estimate should start from.

        Not for a write transaction that has already logged events (see `SiteHistories.get`);
        a transaction's own new tickets, not yet in the log, are passed as `including`.
        """
        view = self.histories.get(session, site=site.id, now=now)
        tickets = view.open_tickets
        if including:
            own = {t.id for t in including}
            tickets = [t for t in tickets if t.id not in own] + list(including)
        return office.queue_state(
            session,
            config=self.config,
            site=site,
            now=now,
            history=view.history,
            open_tickets=tickets,
            counters=view.counters,
        )


def site_status(
    runtime: Runtime, session: Session, site: Site, now: dt.datetime, *, lang: str = "ja"
) -> dict[str, Any]:
    """The site's status from its caught-up queue (`views.site_status` with `queue_state`)."""
    state = runtime.queue_state(session, site, now)
    return views.site_status(
        session, config=runtime.config, site=site, now=now, lang=lang, state=state
    )


async def transact(runtime: Runtime, work: Callable[[Session], T]) -> T:
    """Run `work` in a worker thread inside one transaction and commit it."""

    def run() -> T:
        with runtime.writer_turn, runtime.writer_sessions() as session:
            result = work(session)
            session.commit()
            return result

    return await run_in_threadpool(run)
