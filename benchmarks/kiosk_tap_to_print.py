"""Tap to print: a kiosk's local `POST /issue` until the slip's last byte reaches the printer.

    python benchmarks/kiosk_tap_to_print.py [--runs 200] [--mode kanji|raster] [--width 58]

A real server (uvicorn subprocess, SQLite in a temporary folder, clock at a Tuesday 10:00) on
127.0.0.1, the kiosk's local app under uvicorn in a thread, and a virtual TCP printer (no
printer mechanics). Reports p50/p95/max in ms for two spans, as JSON:

- `to_printer`: tap → the job's cut received by the printer (all bytes sent; target p95 ≤ 300 ms)
- `to_answer`: tap → the page's answer (after the post-job status check)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from display_server.security import new_device_token
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker, upgrade
from kiosk import KioskAgent, ReprintStore, create_kiosk_app
from printers import VirtualPrinter, open_printer

TARGET_MS = 300.0
SERVICES = ("moving", "certificates", "seal", "tax", "nhi", "child")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url,
           "MADOGUCHI_SECRET_KEY": "benchmark-secret-key-that-is-long-enough-0123",
           "MADOGUCHI_CLOCK_START": "2026-12-01T10:00:00+09:00"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "display_server.app:app_from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max": round(ordered[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--mode", choices=("kanji", "raster"), default="kanji")
    parser.add_argument("--width", type=int, choices=(58, 80), default=58)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    upgrade(database_url)
    token = new_device_token()
    with make_sessionmaker(make_engine(database_url))() as session:
        auth_store.add_token(session, token=token, role="kiosk", site="nerima", label="bench",
                             now=dt.datetime.now(dt.UTC))
        session.commit()
    server_port, kiosk_port = free_port(), free_port()
    server = start_server(database_url, server_port)
    received: list[float] = []
    printer = VirtualPrinter(work / "slips", dots=384 if args.width == 58 else 576).start()
    finish = printer._finish

    def timed_finish(data: bytes) -> None:
        received.append(time.perf_counter())  # the cut has arrived: every byte was sent
        finish(data)

    printer._finish = timed_finish  # type: ignore[method-assign]
    client = httpx.Client(base_url=f"http://127.0.0.1:{server_port}", timeout=3.0,
                          headers={"Authorization": f"Bearer {token}"})
    reprints = ReprintStore(work / "kiosk-state")
    agent = KioskAgent(client, open_printer(printer.uri), reprints=reprints, site="nerima",
                       device="bench", mode=args.mode, width=args.width)
    kiosk = uvicorn.Server(uvicorn.Config(create_kiosk_app(agent, monitor_s=0), host="127.0.0.1",
                                          port=kiosk_port, log_level="warning"))
    thread = threading.Thread(target=kiosk.run, daemon=True)
    thread.start()
    while not kiosk.started:
        time.sleep(0.02)
    to_printer: list[float] = []
    to_answer: list[float] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{kiosk_port}", timeout=10) as page:
            for run in range(args.runs + 1):
                body = {"service": SERVICES[run % len(SERVICES)], "key": uuid.uuid4().hex}
                before = len(received)
                started = time.perf_counter()
                answer = page.post("/issue", json=body)
                answered = time.perf_counter()
                assert answer.status_code == 201 and answer.json()["printed"], answer.text
                deadline = time.monotonic() + 5
                while len(received) == before and time.monotonic() < deadline:
                    time.sleep(0.001)
                if run == 0:
                    continue  # warm-up: fonts, catalogue, connections
                to_printer.append((received[before] - started) * 1000)
                to_answer.append((answered - started) * 1000)
    finally:
        kiosk.should_exit = True
        thread.join(timeout=10)
        printer.stop()
        client.close()
        reprints.close()
        server.terminate()
        server.wait(timeout=10)
    result = {
        "date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "mode": args.mode, "width": args.width, "runs": args.runs,
        "to_printer_ms": summary(to_printer), "to_answer_ms": summary(to_answer),
        "target_p95_ms": TARGET_MS, "met": summary(to_printer)["p95"] <= TARGET_MS,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
