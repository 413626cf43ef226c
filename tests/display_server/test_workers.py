"""`madoguchi serve --workers N`: a listening socket per worker, balanced connections, a worker
that dies is replaced, a taken port is a clear error, and SIGTERM stops everything."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from display_server import workers
from display_server.cli import main
from tests.e2e.browser import free_port


def _proc_net_tcp(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 TCP sockets with local port `port` in `state` (0A listen, 01 open)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_sockets_share_the_port_and_the_kernel_spreads_connections() -> None:
    port = free_port()
    sockets = workers.listening_sockets("127.0.0.1", port, 3)
    try:
        for sock in sockets:
            sock.listen(64)
            sock.setblocking(False)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        time.sleep(0.2)
        accepted: Counter[int] = Counter()
        for index, sock in enumerate(sockets):
            while True:
                try:
                    sock.accept()[0].close()
                except BlockingIOError:
                    break
                accepted[index] += 1
        for client in clients:
            client.close()
    finally:
        for sock in sockets:
            sock.close()
    assert sum(accepted.values()) == 60
    assert sorted(accepted) == [0, 1, 2]  # every socket got connections (chance of not: 1e-10)


def test_a_taken_port_is_refused_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("MADOGUCHI_SECRET_KEY", "workers-test-secret-key-long-enough-0123456789")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            workers.listening_sockets("127.0.0.1", port, 2)
        assert main(["serve", "--workers", "2", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["serve", "--workers", "0"]) == 2


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {
        **os.environ,
        "MADOGUCHI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "MADOGUCHI_SECRET_KEY": "workers-test-secret-key-long-enough-0123456789",
    }
    command = [sys.executable, "-m", "display_server.cli", "serve", "--workers", "2"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env)
    try:
        deadline = time.monotonic() + 30
        while len(_listening_workers(process.pid, port)) < 2:
            assert process.poll() is None, "the server exited while starting"
            assert time.monotonic() < deadline, "two workers did not start listening in 30 s"
            time.sleep(0.2)
        yield process, port
    finally:
        orphans = _children(process.pid)  # before the kill: then they belong to init
        if process.poll() is None:
            process.kill()
            process.wait()
        for child in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def _listening_workers(supervisor: int, port: int) -> dict[int, int]:
    """Worker pid → its listening socket's inode, for the supervisor's children that listen."""
    listening = _proc_net_tcp(port, "0A")
    found = {}
    for child in _children(supervisor):
        own = _socket_inodes(child) & listening
        if own:
            found[child] = own.pop()
    return found


def _healthy(port: int, *, timeout: float = 2) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def test_workers_each_listen_serve_are_replaced_and_stop_on_sigterm(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    listening = _listening_workers(process.pid, port)
    assert len(set(listening.values())) == 2  # two sockets, not one shared

    # Keep-alive connections land on both workers.
    # Waits as generous as below: a busy machine may take seconds to answer a first request.
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) for _ in range(30)]
    for client in clients:
        assert client.get("/healthz").status_code == 200
    open_connections = _proc_net_tcp(port, "01")
    serving = [pid for pid in listening if _socket_inodes(pid) & open_connections]
    for client in clients:
        client.close()
    assert sorted(serving) == sorted(listening)

    # A worker that dies after its start is replaced; the other one serves meanwhile.
    time.sleep(workers.STARTUP_S)
    victim = next(iter(listening))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(set(_listening_workers(process.pid, port)) - set(listening)) == 0:
        assert time.monotonic() < deadline, "the dead worker was not replaced in 30 s"
        # A connection that lands on the dead worker's socket waits for its successor.
        assert _healthy(port, timeout=20)
        time.sleep(0.2)
    while len(now_listening := _listening_workers(process.pid, port)) < 2:
        assert time.monotonic() < deadline, "the new worker did not start listening"
        time.sleep(0.2)
    assert victim not in now_listening
    # The successor listens on its inherited socket before its app has started (seconds of
    # imports on a busy machine): a request that lands there waits for it, as above.
    assert _healthy(port, timeout=20)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=workers.STOP_GRACE_S + 10) == 0
    for pid in now_listening:
        assert not Path(f"/proc/{pid}").exists()
    assert not _healthy(port)
