"""Websocket fan-out: N lobby screens on one site, one call, time until each screen has it.

    python benchmarks/ws_fanout.py --clients 1000 5000 10000 20000 --storm 5000

For each N a fresh server process (`uvicorn display_server.app:app_from_environment`, SQLite,
memory hub, compression off) runs on 127.0.0.1; client processes open N websockets to
`/ws/sites/nerima`, wait for their snapshots, then the script calls the next ticket through the
API and every client notes when the `called` change arrives (p50/p99/max from the moment the
request was sent). Server CPU seconds and RSS come from /proc. The storm run then restarts the
server under N connected clients: all of them reconnect at once with `?since=<last seq>`, and
the script times until every one has its snapshot again.

The clients speak just enough of RFC 6455 (handshake, frames, pong) to stay cheap, so that on a
small machine the measurement is of the server, not of the load generator. Connections come
from several 127.0.0.x source addresses so that 20k sockets do not exhaust one address's ports.
Everything stops by itself (timeouts everywhere); results print as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKERS = 4
TIMEOUT_S = 30.0
#: The parent gives up on a silent client process after this long.
PHASE_TIMEOUT_S = 300.0


def raise_fd_limit() -> None:
    """Soft limit up to the hard one (raising the hard limit needs CAP_SYS_RESOURCE)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Screen(asyncio.Protocol):
    """One lobby screen: handshake, then note when the snapshot and the call arrive."""

    def __init__(self, path: str, on_snapshot: asyncio.Future[None] | None = None) -> None:
        self.path = path
        self.buffer = bytearray()
        self.upgraded = False
        self.snapshot_at: float | None = None
        self.called_at: float | None = None
        self.seq = 0
        self.closed = asyncio.get_running_loop().create_future()
        self.ready = on_snapshot or asyncio.get_running_loop().create_future()
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            .encode()
        )

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self._fail()
                return
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            opcode, length, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, start = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + length:
                return
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self._fail()
            elif opcode == 0x1:
                self._text(payload)

    def _text(self, payload: bytes) -> None:
        now = time.time()
        if payload.startswith(b'{"type":"snapshot"'):
            self.seq = json.loads(payload)["seq"]
            self.snapshot_at = now
            if not self.ready.done():
                self.ready.set_result(None)
        elif b'"type":"called"' in payload[:40] and self.called_at is None:
            self.called_at = now
            self.seq = json.loads(payload)["seq"]

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None and len(payload) < 126
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _fail(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the snapshot"))


async def open_screen(port: int, source: str, path: str) -> Screen:
    loop = asyncio.get_running_loop()
    _, screen = await loop.create_connection(
        lambda: Screen(path), "127.0.0.1", port, local_addr=(source, 0)
    )
    await asyncio.wait_for(screen.ready, TIMEOUT_S)
    return screen


async def client_main(count: int, port: int, source: str, pipe: Connection) -> None:
    gate = asyncio.Semaphore(64)  # handshakes in flight per worker

    async def one() -> Screen | None:
        async with gate:
            for _ in range(5):
                try:
                    return await open_screen(port, source, "/ws/sites/nerima")
                except (OSError, ConnectionError, TimeoutError):
                    await asyncio.sleep(0.2 + random.random())
        return None

    screens = [s for s in await asyncio.gather(*(one() for _ in range(count))) if s]
    pipe.send(("ready", len(screens), count - len(screens)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while any(s.called_at is None for s in screens) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    pipe.send(("called", [s.called_at for s in screens if s.called_at]))
    if pipe.recv() != "storm":
        return
    # The server restarts: every screen reconnects at once, resuming from its last seq.
    await asyncio.gather(*(s.closed for s in screens))

    async def back(screen: Screen) -> float | None:
        for _ in range(600):
            try:
                again = await open_screen(port, source, f"/ws/sites/nerima?since={screen.seq}")
                return again.snapshot_at
            except (OSError, ConnectionError, TimeoutError):
                await asyncio.sleep(0.1 + random.random() * 0.2)
        return None

    pipe.send(("storm", await asyncio.gather(*(back(s) for s in screens))))
    pipe.recv()


def client_process(count: int, port: int, source: str, pipe: Connection) -> None:
    raise_fd_limit()
    import uvloop

    uvloop.run(client_main(count, port, source, pipe))


class Server:
    def __init__(self, database_url: str, port: int, ws: str) -> None:
        self.port = port
        self.ws = ws
        self.env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url,
                    "MADOGUCHI_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                    "MADOGUCHI_CLOCK_START": "2026-12-01T10:00:00+09:00",
                    "MADOGUCHI_HOUSEKEEPING_INTERVAL_S": "3600"}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "display_server.app:app_from_environment",
             "--factory", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error",
             "--ws-per-message-deflate", "false", "--backlog", "4096", "--ws", self.ws],
            env=self.env, cwd=ROOT, preexec_fn=raise_fd_limit,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return time.time()
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def cpu_s(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> tuple[float, float]:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        kib = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith("Vm")}
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024


def receive(pipe: Connection) -> Any:
    if not pipe.poll(PHASE_TIMEOUT_S):
        raise TimeoutError("a client process went silent")
    return pipe.recv()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(clients: int, storm: bool, base: int, ws: str) -> dict[str, Any]:
    from display_server.store.db import upgrade
    from tests.e2e.browser import add_token, free_port

    workdir = tempfile.mkdtemp(prefix="ws_fanout_")
    url = f"sqlite:///{workdir}/bench.db"
    upgrade(url)
    kiosk, staff = add_token(url, "kiosk", "nerima"), add_token(url, "staff", "nerima")
    server = Server(url, free_port(), ws)
    server.start()
    api = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30)
    api.post("/api/v1/sites/nerima/tickets", json={"service": "moving"},
             headers={"Authorization": f"Bearer {kiosk}"}).raise_for_status()
    auth = {"Authorization": f"Bearer {staff}"}
    api.post("/api/v1/counters/nerima-1/open", headers=auth).raise_for_status()
    pipes, procs = [], []
    connect_started = time.time()
    for w in range(WORKERS):
        mine, theirs = mp.Pipe()
        share = clients // WORKERS + (w < clients % WORKERS)
        proc = mp.Process(target=client_process,
                          args=(share, server.port, f"127.0.{base}.{w + 2}", theirs))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    ready = [receive(pipe) for pipe in pipes]
    connected, failed = sum(r[1] for r in ready), sum(r[2] for r in ready)
    connect_s = time.time() - connect_started
    rss_idle, _ = server.rss_mib()
    cpu_before = server.cpu_s()
    sent = time.time()
    api.post("/api/v1/counters/nerima-1/call-next", headers=auth).raise_for_status()
    arrivals = [t for pipe in pipes for t in receive(pipe)[1]]
    cpu = server.cpu_s() - cpu_before
    rss, peak = server.rss_mib()
    latencies = [(t - sent) * 1000 for t in arrivals]
    result: dict[str, Any] = {
        "clients": clients, "connected": connected, "connect_failed": failed,
        "connect_s": round(connect_s, 1), "received": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1), "max_ms": round(max(latencies), 1),
        "server_cpu_s_for_the_call": round(cpu, 2),
        "server_rss_mib_connected": round(rss_idle), "server_rss_mib_after": round(rss),
        "server_rss_mib_peak": round(peak),
    }
    if storm:
        for pipe in pipes:
            pipe.send("storm")
        server.stop()
        back_at = server.start()
        times = [t for pipe in pipes for t in receive(pipe)[1]]
        done = [t for t in times if t is not None]
        result["storm"] = {
            "clients": len(times), "reconnected": len(done), "errors": len(times) - len(done),
            "all_back_s_after_server_up": round(max(done) - back_at, 2) if done else None,
            "server_rss_mib_after": round(server.rss_mib()[0]),
        }
    for pipe in pipes:
        pipe.send("stop")
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000, 10000, 20000])
    parser.add_argument("--storm", type=int, default=5000, help="clients in the reconnect storm")
    parser.add_argument("--ws", default="websockets", help="uvicorn's websocket implementation")
    args = parser.parse_args()
    if max([*args.clients, args.storm]) > 20000:
        parser.error("at most 20000 clients: this benchmark stays bounded")
    raise_fd_limit()
    # The server needs one descriptor per client plus its own (database, listening socket, …).
    room = resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 200
    if max(args.clients) > room:
        print(f"note: RLIMIT_NOFILE caps the server at {room} clients here", file=sys.stderr)
        args.clients = [min(n, room) for n in args.clients]
    results = [run(n, storm=False, base=i + 1, ws=args.ws) for i, n in enumerate(args.clients)]
    if args.storm:
        results.append(run(args.storm, storm=True, base=len(args.clients) + 1, ws=args.ws))
    print(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpus": os.cpu_count(),
                      "load_before": os.getloadavg(), "ws": args.ws, "runs": results}, indent=2))


if __name__ == "__main__":
    main()
