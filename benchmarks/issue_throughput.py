"""Ticket issue throughput and latency through HTTP.

Starts `madoguchi serve` (1 or 2 workers) on 127.0.0.1 against a fresh SQLite file or a fresh
PostgreSQL database, then N concurrent clients issue tickets with kiosk tokens and
Idempotency-Keys for a fixed number of requests. Prints JSON: tickets/s, p50, p99 and max
latency, CPU time per ticket of the server (all its processes), of PostgreSQL and of this
client (from /proc), and whether every service's numbers came out unique and gapless.

    python benchmarks/issue_throughput.py --db sqlite --workers 1
    python benchmarks/issue_throughput.py --db postgres --workers 2 --clients 50 --tickets 5000
    python benchmarks/issue_throughput.py --db postgres --workers 2 --rate 300 --tickets 6000

Only 127.0.0.1 is contacted; the run is bounded by --tickets and a 300 s deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
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


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body.

    A load generator on the same two cores as the server must cost little: an httpx client
    took about a third as much CPU per request as the server itself.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n".encode() + body
        )
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        fields = dict(line.split(b":", 1) for line in lines if line)
        length = int(next(v for k, v in fields.items() if k.lower() == b"content-length"))
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def ticket_plan(sites: list[str], total: int) -> list[tuple[str, str]]:
    """(site, service) for each request: sites in turn, each site's uncapped services in turn."""
    config = load_config()
    services = {
        site.id: [s.id for s in site.services if s.daily_cap is None] for site in config.sites
    }
    return [
        (site, services[site][i % len(services[site])])
        for i, site in enumerate(sites * (total // len(sites) + 1))
    ][:total]


async def run_clients(
    port: int, tokens: dict[str, str], clients: int, total: int, rate: float | None
) -> tuple[list[float], float]:
    """Latencies (s) of `total` ticket issues over `clients` connections, and the elapsed time.

    Without `rate` each connection sends its next request when the last is answered (closed
    loop: the server's top speed). With `rate`, requests are due at that many per second
    whatever the answers do (open loop), and latency counts from when a request was due, so a
    slow server cannot hide its backlog (no coordinated omission).
    """
    plan = iter(ticket_plan(list(tokens), total))
    connections = [await Connection.open("127.0.0.1", port) for _ in range(clients)]
    # Every connection answered once before the clock starts: each worker is up and serving.
    await asyncio.gather(*(c.request("GET", "/healthz") for c in connections))
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = time.monotonic() + DEADLINE_S

    async def send(connection: Connection, site: str, service: str, due: float) -> None:
        status, body = await connection.request(
            "POST",
            f"/api/v1/sites/{site}/tickets",
            json.dumps({"service": service}).encode(),
            {"Authorization": f"Bearer {tokens[site]}", "Idempotency-Key": uuid.uuid4().hex},
        )
        latencies.append(time.perf_counter() - due)
        if status != 201:
            raise RuntimeError(f"{status}: {body.decode()}")

    if rate is None:

        async def closed_loop(connection: Connection) -> None:
            for site, service in plan:  # one iterator shared by all connections
                if time.monotonic() > deadline:
                    break
                await send(connection, site, service, time.perf_counter())

        await asyncio.gather(*(closed_loop(c) for c in connections))
    else:
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)

        async def scheduled(site: str, service: str, due: float) -> None:
            connection = await idle.get()
            try:
                await send(connection, site, service, due)
            finally:
                idle.put_nowait(connection)

        requests = []
        for n, (site, service) in enumerate(plan):
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if time.monotonic() > deadline:
                break
            requests.append(asyncio.create_task(scheduled(site, service, due)))
        await asyncio.gather(*requests)
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return latencies, elapsed


@dataclass(frozen=True)
class CpuSeconds:
    """CPU time (user + system) used so far by the server, PostgreSQL and this client.

    CPU per ticket does not depend on what else the machine is doing, unlike tickets/s on two
    shared cores: it is the number to compare between versions, and the three together show
    where the machine's two cores go.
    """

    server: float
    database: float
    client: float

    @classmethod
    def now(cls, server_pid: int) -> CpuSeconds:
        parents: dict[int, int] = {}
        names: dict[int, str] = {}
        used: dict[int, float] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue  # the process ended meanwhile
            name, fields = text.split(" (", 1)[1].rsplit(")", 1)
            values = fields.split()
            pid = int(stat.parent.name)
            parents[pid], names[pid] = int(values[1]), name
            used[pid] = (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")

        def descends(pid: int) -> bool:
            while pid > 1:
                if pid == server_pid:
                    return True
                pid = parents.get(pid, 0)
            return False

        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            server=sum(seconds for pid, seconds in used.items() if descends(pid)),
            database=sum(seconds for pid, seconds in used.items() if names[pid] == "postgres"),
            client=own.ru_utime + own.ru_stime,
        )

    def __sub__(self, earlier: CpuSeconds) -> CpuSeconds:
        return CpuSeconds(
            self.server - earlier.server,
            self.database - earlier.database,
            self.client - earlier.client,
        )


def app_milliseconds(log: Path) -> list[float]:
    """The sorted times the app took for the ticket requests, from its JSON access log."""
    times = []
    for line in log.read_text().splitlines():
        _, brace, rest = line.partition("{")
        if brace and '"path": "/api/v1/sites/' in rest:
            times.append(float(json.loads(brace + rest)["ms"]))
    return sorted(times)


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
    parser.add_argument(
        "--rate", type=float, help="open loop: requests due at this many per second (default: "
        "closed loop, each client sends when answered)"
    )
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
        # As deployed: `madoguchi serve`, its access log written to a file.
        server_log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "display_server.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{args.port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            cpu_before = CpuSeconds.now(server.pid)
            latencies, elapsed = asyncio.run(
                run_clients(args.port, tokens, args.clients, args.tickets, args.rate)
            )
            cpu = CpuSeconds.now(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=40)
            server_log.close()
        inside = app_milliseconds(Path(tmp) / "server.log")
        ordered = sorted(latencies)
        result = {
            "db": args.db,
            "workers": args.workers,
            "clients": args.clients,
            "offered_per_s": args.rate,
            "sites": len(sites),
            "tickets": len(latencies),
            "tickets_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
            # Time inside the app (its access log): the rest of the latency is queueing.
            "app_p50_ms": round(statistics.median(inside), 1),
            "app_p99_ms": round(inside[int(len(inside) * 0.99) - 1], 1),
            **{
                f"{part}_cpu_ms_per_ticket": round(seconds / len(latencies) * 1000, 2)
                for part, seconds in vars(cpu).items()
            },
            "unique_and_gapless": gapless(url),
        }
        drop_database(pg_name)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
