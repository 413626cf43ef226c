"""A temporary SQLite database holding the demo's simulated history, for the benchmarks that
score against it (`estimate_replay_simulated.py`, `forecast_waits_demo.py`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

from display_server.config import WardConfig
from display_server.demo_history import seed_history
from display_server.store.db import make_engine, make_sessionmaker, upgrade


@contextlib.contextmanager
def simulated_history(
    config: WardConfig, *, end: dt.datetime, days: int, seed: int = 7
) -> Iterator[str]:
    """The URL of a database with `days` of `serve --demo`'s history before `end`'s day
    (`seed` 7 is the demo's own), removed on exit."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'simulated.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            with make_sessionmaker(engine, writer=True)() as session:
                seed_history(session, config=config, now=end, days=days, seed=seed)
                session.commit()
        finally:
            engine.dispose()
        yield url
