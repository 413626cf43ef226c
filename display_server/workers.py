"""`madoguchi serve --workers N`: N server processes, each with its own listening socket.

uvicorn's own `--workers` share one socket, and the process that wakes first accepts a whole
burst of new connections. With keep-alive clients (kiosks, a reverse proxy's connection pool)
the connections stay where they landed: in the issue benchmark one of two workers held 35 of
50 and queued requests while the other idled (p99 0.3–1.4 s at 300 tickets/s against 0.13 s).
Here every worker listens on a socket of its own bound to the same port (SO_REUSEPORT), and
Linux spreads new connections evenly over them.

The supervisor binds the sockets first, so a port that is taken fails at once with a clear
error; restarts a worker that dies (its socket stays open meanwhile, so connections that arrive
for it wait instead of being refused); gives up when a worker dies right after its start (it
would only fail again); and on SIGINT or SIGTERM lets the workers finish their requests.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("madoguchi")

#: Whether the kernel balances connections over sockets sharing a port: Linux does; BSD and
#: macOS accept SO_REUSEPORT but do not balance (there uvicorn's shared socket is used).
BALANCES_CONNECTIONS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
#: A worker that exits sooner than this after its start is failing to start, not crashing.
STARTUP_S = 5.0
#: Connections that may wait for a worker to accept them (uvicorn's default).
BACKLOG = 2048
#: How long workers may take to finish their requests once asked to stop.
STOP_GRACE_S = 30.0


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to `host`:`port` that the kernel balances connections over."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            # Listening before any worker runs: connections the kernel hands to a worker that
            # is still starting wait in its queue; an unready socket would get none, and the
            # first worker up would keep every early keep-alive connection.
            sock.listen(BACKLOG)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve(sock: socket.socket, app: str, options: dict[str, Any]) -> None:
    """A worker process: one uvicorn server on its own socket."""
    uvicorn.Server(uvicorn.Config(app, factory=True, **options)).run(sockets=[sock])


class _Stop:
    """Set by SIGINT/SIGTERM in the supervisor."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping the workers", signal.Signals(signum).name)
        self.event.set()


def run_workers(app: str, *, host: str, port: int, count: int, options: dict[str, Any]) -> int:
    """Serve the ASGI app factory `app` from `count` processes until SIGINT/SIGTERM.

    Returns the exit code: 0 after a requested stop, 1 when a worker could not start.
    Raises OSError when the address cannot be bound (e.g. the port is taken).
    """
    sockets = listening_sockets(host, port, count)
    context = multiprocessing.get_context("spawn")
    stop = _Stop()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def start(sock: socket.socket) -> tuple[BaseProcess, float]:
        process = context.Process(target=_serve, args=(sock, app, options), name="madoguchi-worker")
        process.start()
        return process, time.monotonic()

    workers = [start(sock) for sock in sockets]
    log.info("serving on %s:%d with %d workers, one socket each", host, port, count)
    failed = False
    try:
        while not stop.event.wait(0.5):
            for index, (process, started) in enumerate(workers):
                if process.is_alive():
                    continue
                pid, code = process.pid, process.exitcode
                if time.monotonic() - started < STARTUP_S:
                    log.error("worker %d exited with %s while starting", pid, code)
                    failed = True
                    stop.event.set()
                    break
                log.error("worker %d exited with %s; starting another", pid, code)
                workers[index] = start(sockets[index])
    finally:
        for process, _ in workers:
            process.terminate()  # uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_GRACE_S
        for process, _ in workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %d did not stop in %.0f s: killed", process.pid, STOP_GRACE_S)
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 1 if failed else 0
