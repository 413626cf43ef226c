"""Server settings from the environment (`MADOGUCHI_` prefix), passed into `create_app`."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", frozen=True, extra="ignore")

    database_url: str = "sqlite:///./madoguchi.db"
    pubsub_url: str = "memory://"
    #: The ward configuration (TOML); None uses the shipped example.
    config_path: Path | None = None
    #: Signs session cookies and CSRF tokens. Required outside demo mode; see README (security).
    secret_key: str | None = Field(default=None, min_length=32)
    #: The server's clock starts at this instant and runs forward in real time (demos, tests).
    clock_start: dt.datetime | None = None
    #: Public URL of the server, used in the QR codes on slips; None derives it from requests.
    public_url: str | None = None
    session_max_age_s: int = Field(default=12 * 3600, ge=60)
    #: A device token, once checked, is trusted this long without reading it again: a revoked
    #: token stops working within this time (0: check every request).
    token_cache_s: float = Field(default=10.0, ge=0, le=300)
    #: Cookies are marked Secure (HTTPS only); turn off only for plain-HTTP local demos.
    secure_cookies: bool = True
    demo: bool = False
    #: Live status of a site is recomputed at most this often (per process) under a burst of
    #: changes; the changes themselves are sent at once.
    live_refresh_interval_s: float = Field(default=1.0, ge=0, le=5)
    #: How often the server expires tickets after closing time and refreshes estimates.
    housekeeping_interval_s: float = Field(default=30.0, gt=0)
    #: The floor view raises an alert when someone has waited longer than this (minutes).
    floor_wait_alert_min: float = Field(default=30.0, gt=0)
    #: … and when a called ticket has not come to the counter after this many minutes.
    floor_call_alert_min: float = Field(default=3.0, gt=0)
    #: The FAQ starting set, loaded when the FAQ table is empty; None uses the shipped example.
    faq_path: Path | None = None
    #: Processes that fit the forecasts in the nightly refit (0: one per CPU). The refit runs
    #: after midnight, when the counters are closed; 1 keeps it in the server's process.
    forecast_workers: int = Field(default=0, ge=0, le=64)

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                "MADOGUCHI_CLOCK_START needs a UTC offset, e.g. 2026-12-01T09:00+09:00"
            )
        return value


class Clock:
    """The server's notion of now: real time, or real time shifted to start at `start`."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.start = start
        self._started_monotonic = time.monotonic()

    @property
    def shifted(self) -> bool:
        return self.start is not None

    def now(self) -> dt.datetime:
        if self.start is None:
            return dt.datetime.now(dt.UTC)
        return self.start + dt.timedelta(seconds=time.monotonic() - self._started_monotonic)
