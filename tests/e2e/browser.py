"""Browser-test support: a real server on 127.0.0.1 and Debian's chromium through Playwright.

The server runs as `uvicorn display_server.app:app_from_environment` in a subprocess with its own
SQLite file (or the PostgreSQL/Redis URLs a test passes), so tests can kill and restart it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from display_server.security import hash_password, new_device_token
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker, upgrade

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
#: The clock the server starts at: a Tuesday morning in Japan.
CLOCK_START = "2026-12-01T10:00:00+09:00"
STAFF_PASSWORD = "staff-password-123"
ARTIFACTS = Path(os.environ.get("MADOGUCHI_ARTIFACTS", "artifacts"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One `madoguchi` server process; `restart()` keeps its port and database."""

    database_url: str
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "MADOGUCHI_DATABASE_URL": self.database_url,
            "MADOGUCHI_SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
            "MADOGUCHI_SECURE_COOKIES": "false",
            "MADOGUCHI_CLOCK_START": CLOCK_START,
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "display_server.app:app_from_environment",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--ws-per-message-deflate",
                "false",
            ],
            env=env,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def add_token(database_url: str, role: str, site: str | None) -> str:
    secret = new_device_token()
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            auth_store.add_token(
                session,
                token=secret,
                role=role,
                site=site,
                label="e2e",
                now=dt.datetime.now(dt.UTC),
            )
            session.commit()
    finally:
        engine.dispose()  # an undisposed PostgreSQL pool leaks connections (ResourceWarning)
    return secret


def add_user(database_url: str, name: str, role: str, site: str | None = None) -> None:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            auth_store.add_user(
                session,
                name=name,
                password_hash=hash_password(STAFF_PASSWORD),
                role=role,
                site=site,
                now=dt.datetime.now(dt.UTC),
            )
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    upgrade(url)
    server = LiveServer(database_url=url)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module, closed after it: Playwright's sync API keeps an event
    loop running in the main thread while it is open, and `asyncio.run` in a later test of
    another module would fail on it."""
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    yield page
    context.close()


def login(page: Any, server: LiveServer, name: str, next_path: str) -> None:
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#name", name)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{next_path}")


def assert_accessible(page: Any, label: str) -> None:
    """axe finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{label}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in bad
    )


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under artifacts/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


#: Screen sizes the live pages are checked at: a phone, and the two usual lobby TVs.
PHONE = {"width": 390, "height": 844}
TV_FULL_HD = {"width": 1920, "height": 1080}
TV_HD = {"width": 1280, "height": 720}


@contextlib.contextmanager
def open_page(browser: Any, viewport: dict[str, int], lang: str = "ja") -> Iterator[Any]:
    """A page in a context of its own (own cookies) at `viewport`, closed afterwards."""
    context = browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US", timezone_id="Asia/Tokyo", viewport=viewport
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def issue_ticket(
    server: LiveServer, kiosk_token: str, service: str = "moving", route: list[str] | None = None
) -> dict[str, Any]:
    """A ticket issued through the server's API as a kiosk would (through `route` if given)."""
    response = httpx.post(
        f"{server.url}/api/v1/sites/nerima/tickets",
        json={"service": service, **({"route": route} if route else {})},
        headers={"Authorization": f"Bearer {kiosk_token}"},
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
