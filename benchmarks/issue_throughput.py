"""Ticket issue throughput and latency through HTTP.

Starts `uvicorn display_server.app:app_from_environment` (1 or 2 workers) on 127.0.0.1 against a
fresh SQLite file or a fresh PostgreSQL database, then N concurrent clients issue tickets with
kiosk tokens and Idempotency-Keys for a fixed number of requests. Prints JSON: tickets/s, p50,
p99 and max latency, and whether every service's numbers came out unique and gapless.

    python benchmarks/issue_throughput.py --db sqlite --workers 1
    python benchmarks/issue_throughput.py --db postgres --workers 2 --clients 50 --tickets 5000

Only 127.0.0.1 is contacted; the run is bounded by --tickets and a 300 s deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import sqlalchemy as sa

from display_server.config import load_config
from display_server.security import new_device_token
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker, upgrade
from display_server.store.models import TicketRow

POSTGRES = os.environ.get(
    "MADOGUCHI_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEADLINE_S = 300


def fresh_database(kind: str, tmp: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", None
    name = f"madoguchi_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def kiosk_tokens(url: str, sites: list[str]) -> dict[str, str]:
    tokens = {}
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        for site in sites:
            tokens[site] = new_device_token()
            auth_store.add_token(
                session,
                token=tokens[site],
                role="kiosk",
                site=site,
                label="bench",
                now=dt.datetime.now(dt.UTC),
            )
        session.commit()
    engine.dispose()
    return tokens


async def run_clients(base: str, tokens: dict[str, str], clients: int, total: int) -> list[float]:
    config = load_config()
    services = {
        site.id: [s.id for s in site.services if s.daily_cap is None] for site in config.sites
    }
    plan = [
        (site, services[site][i % len(services[site])])
        for i, site in enumerate(list(tokens) * (total // len(tokens) + 1))
    ][:total]
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    latencies: list[float] = []
    deadline = time.monotonic() + DEADLINE_S

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while not queue.empty() and time.monotonic() < deadline:
                site, service = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    f"/api/v1/sites/{site}/tickets",
                    json={"service": service},
                    headers={
                        "Authorization": f"Bearer {tokens[site]}",
                        "Idempotency-Key": uuid.uuid4().hex,
                    },
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def gapless(url: str) -> bool:
    engine = make_engine(url)
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    with make_sessionmaker(engine)() as session:
        for site, service, number in session.execute(
            sa.select(TicketRow.site, TicketRow.numbered_service, TicketRow.number)
        ):
            numbers[(site, service)].append(number)
    engine.dispose()
    return all(sorted(v) == list(range(1, len(v) + 1)) for v in numbers.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--one-site", action="store_true", help="all tickets to one site")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    config = load_config()
    sites = [config.sites[0].id] if args.one_site else [s.id for s in config.sites]
    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = fresh_database(args.db, Path(tmp))
        upgrade(url)
        tokens = kiosk_tokens(url, sites)
        env = {
            **os.environ,
            "MADOGUCHI_DATABASE_URL": url,
            "MADOGUCHI_SECRET_KEY": "benchmark-secret-key-long-enough-0123456789",
            "MADOGUCHI_CLOCK_START": "2026-12-01T09:00:00+09:00",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "display_server.app:app_from_environment",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{args.port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            started = time.perf_counter()
            latencies = asyncio.run(run_clients(base, tokens, args.clients, args.tickets))
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=20)
        ordered = sorted(latencies)
        result = {
            "db": args.db,
            "workers": args.workers,
            "clients": args.clients,
            "sites": len(sites),
            "tickets": len(latencies),
            "tickets_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
            "unique_and_gapless": gapless(url),
        }
        drop_database(pg_name)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
