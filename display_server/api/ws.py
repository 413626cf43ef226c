"""Websockets: `WS /ws/sites/{site}` and `WS /ws/tickets/{token}` (formats in docs/live.md).

A client gets a snapshot first, then the changes as the hub delivers them. `?since=N` (the last
seq a client saw) adds the changes it missed after the snapshot, so a screen can still announce
a call made while it was reconnecting. Client messages are small JSON objects: `{"type":
"ping"}` is answered with `{"type": "pong"}`; anything else gets an error message, and a client
that keeps sending garbage is closed with 1008 (1003 for binary frames, 1009 when too large).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from display_server.config import Site
from display_server.hub import Lagged, Subscription
from display_server.live import (
    dumps,
    load_missed,
    load_snapshot,
    load_ticket,
    site_channel,
    ticket_channel,
)
from display_server.runtime import Runtime

router = APIRouter()

#: Changes each process keeps per site for clients that reconnect (no database read needed).
RECENT = 64
#: A cached snapshot older than this is read again: estimates drift as time passes.
SNAPSHOT_TTL_S = 15.0
#: Client frames are tiny; anything bigger is not ours.
MAX_CLIENT_MESSAGE = 1024
MAX_BAD_MESSAGES = 5
#: Close codes: policy violation, unsupported data, too big, server error, "not found" (app range).
POLICY, UNSUPPORTED, TOO_BIG, INTERNAL, NOT_FOUND = 1008, 1003, 1009, 1011, 4404


class SiteFeed:
    """Per process and site: the latest snapshot and recent changes, as heard on the hub.

    New and reconnecting clients are served from here, so a reconnect storm of thousands of
    screens costs a handful of database reads, not one each.
    """

    def __init__(self, runtime: Runtime, site: Site) -> None:
        self.runtime = runtime
        self.site = site
        self._snapshot: tuple[float, int, str] | None = None
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT)
        self._lock = asyncio.Lock()
        self._db = asyncio.Semaphore(4)
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        async with self.runtime.hub.subscribe(site_channel(self.site.id)) as sub:
            while True:
                try:
                    _, text = await sub.get()
                except Lagged:
                    self._snapshot = None
                    self._recent.clear()
                    continue
                message = json.loads(text)
                if message["type"] != "snapshot":
                    self._recent.append((message["seq"], text))
                elif message["seq"] >= self.seq:
                    self._keep(message["seq"], text)

    @property
    def seq(self) -> int:
        return self._snapshot[1] if self._snapshot else -1

    @property
    def newest_change(self) -> int:
        """The seq of the newest change heard (-1: none kept); it can be ahead of the snapshot,
        whose status is computed after the changes are sent."""
        return max((seq for seq, _ in self._recent), default=-1)

    def _keep(self, seq: int, text: str) -> None:
        self._snapshot = (time.monotonic(), seq, text)

    async def snapshot(self) -> tuple[int, str]:
        """The latest snapshot's seq and text, read from the database only when stale."""
        cached = self._snapshot
        if cached and time.monotonic() - cached[0] < SNAPSHOT_TTL_S:
            return cached[1], cached[2]
        async with self._lock:  # one read for all the clients asking at once
            cached = self._snapshot
            if not cached or time.monotonic() - cached[0] >= SNAPSHOT_TTL_S:
                fresh = await run_in_threadpool(load_snapshot, self.runtime, self.site)
                if fresh["seq"] >= self.seq:
                    self._keep(fresh["seq"], dumps(fresh))
                cached = self._snapshot
            assert cached is not None
            return cached[1], cached[2]

    async def missed(self, since: int, upto: int) -> list[str]:
        """The changes with `since < seq <= upto`, or none when they are too many to replay."""
        if since >= upto:
            return []
        wanted = set(range(since + 1, upto + 1))
        kept = {seq: text for seq, text in self._recent if seq in wanted}
        if len(kept) == len(wanted):
            return [kept[seq] for seq in sorted(kept)]
        async with self._db:
            changes = await run_in_threadpool(load_missed, self.runtime, self.site, since)
        return [dumps(c) for c in changes or () if c["seq"] <= upto]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Feeds:
    """The process's site feeds, started on first use and stopped with the app."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._feeds: dict[str, SiteFeed] = {}

    def get(self, site: Site) -> SiteFeed:
        if site.id not in self._feeds:
            self._feeds[site.id] = SiteFeed(self.runtime, site)
        return self._feeds[site.id]

    async def close(self) -> None:
        for feed in self._feeds.values():
            await feed.close()
        self._feeds.clear()


def _check(raw: str) -> dict[str, Any]:
    """The reply to one client text frame."""
    try:
        message = json.loads(raw)
    except ValueError:
        return {"type": "error", "detail": "invalid JSON"}
    if not isinstance(message, dict) or message.get("type") != "ping":
        return {"type": "error", "detail": "unknown message; only {\"type\": \"ping\"} is accepted"}
    return {"type": "pong"}


async def _read(websocket: WebSocket, sub: Subscription) -> int | None:
    """Answer client frames until it leaves (None) or must be closed (the close code)."""
    bad = 0
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return None
        if frame.get("bytes") is not None:
            return UNSUPPORTED
        raw = frame.get("text") or ""
        if len(raw) > MAX_CLIENT_MESSAGE:
            return TOO_BIG
        reply = _check(raw)
        bad += reply["type"] == "error"
        if bad > MAX_BAD_MESSAGES:
            return POLICY
        # Replies go through the subscriber's queue: one task writes to the socket.
        sub.put("", dumps(reply))


async def _write(
    websocket: WebSocket, sub: Subscription, resync: Callable[[], Awaitable[str]]
) -> None:
    while True:
        try:
            _, text = await sub.get()
        except Lagged:
            text = await resync()
        await websocket.send_text(text)


async def _serve(
    websocket: WebSocket, sub: Subscription, resync: Callable[[], Awaitable[str]]
) -> None:
    """Read and write until either side ends; a broken writer must not leave a silent socket."""
    reader = asyncio.create_task(_read(websocket, sub))
    writer = asyncio.create_task(_write(websocket, sub, resync))
    done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await task
    if reader in done and reader.exception() is None and reader.result() is not None:
        await websocket.close(reader.result() or POLICY)
    elif writer in done and not isinstance(writer.exception(), WebSocketDisconnect):
        await websocket.close(INTERNAL)


def _since(websocket: WebSocket) -> int | bool | None:
    """`?since=N` as an int, None when absent, False when malformed."""
    raw = websocket.query_params.get("since")
    if raw is None:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 12 else False


@router.websocket("/ws/sites/{site}")
async def site_socket(websocket: WebSocket, site: str) -> None:
    runtime: Runtime = websocket.app.state.runtime
    found = runtime.config.site(site)
    await websocket.accept()
    since = _since(websocket)
    if found is None:
        await websocket.close(NOT_FOUND, "unknown site")
        return
    if since is False:
        await websocket.close(POLICY, "since must be a sequence number")
        return
    feed: SiteFeed = websocket.app.state.feeds.get(found)

    async def resync() -> str:
        return (await feed.snapshot())[1]

    with contextlib.suppress(WebSocketDisconnect):
        async with runtime.hub.subscribe(site_channel(found.id)) as sub:
            seq, snapshot = await feed.snapshot()
            await websocket.send_text(snapshot)
            if isinstance(since, int):
                for text in await feed.missed(since, max(seq, feed.newest_change)):
                    await websocket.send_text(text)
            await _serve(websocket, sub, resync)


@router.websocket("/ws/tickets/{token}")
async def ticket_socket(websocket: WebSocket, token: str) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        await _follow_ticket(websocket, runtime, token)


async def _follow_ticket(websocket: WebSocket, runtime: Runtime, token: str) -> None:
    async with runtime.hub.subscribe(ticket_channel(token)) as sub:
        # Read after subscribing, so no change slips between the read and the first message.
        first = await run_in_threadpool(load_ticket, runtime, token)
        if first is None:
            await websocket.close(NOT_FOUND, "unknown ticket")
            return

        async def resync() -> str:
            fresh = await run_in_threadpool(load_ticket, runtime, token)
            return dumps(fresh or {"type": "error", "detail": "ticket gone"})

        await websocket.send_text(dumps(first))
        await _serve(websocket, sub, resync)
