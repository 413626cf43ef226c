"""The single-flight refresh runner: one run at a time per key, later items folded together."""

from __future__ import annotations

import asyncio

import pytest

from display_server.coalesce import Coalescer


def test_items_submitted_during_a_run_are_handed_to_one_next_run() -> None:
    async def scenario() -> list[tuple[str, list[int]]]:
        runs: list[tuple[str, list[int]]] = []
        release = asyncio.Event()

        async def run(key: str, items: list[int]) -> None:
            runs.append((key, items))
            await release.wait()

        coalescer: Coalescer[str, int] = Coalescer()
        coalescer.submit("a", 1, run)
        await asyncio.sleep(0)  # the first run starts and blocks
        for item in (2, 3, 4):
            coalescer.submit("a", item, run)
        coalescer.submit("b", 9, run)  # another key runs on its own
        await asyncio.sleep(0)
        release.set()
        await coalescer.idle()
        return runs

    runs = asyncio.run(scenario())
    assert runs == [("a", [1]), ("b", [9]), ("a", [2, 3, 4])]


def test_a_failing_run_is_logged_and_later_items_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[list[int]]:
        seen: list[list[int]] = []

        async def run(key: str, items: list[int]) -> None:
            seen.append(items)
            if items == [1]:
                raise RuntimeError("database went away")

        coalescer: Coalescer[str, int] = Coalescer()
        coalescer.submit("a", 1, run)
        await coalescer.idle()
        coalescer.submit("a", 2, run)
        await coalescer.idle()
        return seen

    assert asyncio.run(scenario()) == [[1], [2]]
    assert "background refresh of 'a' failed" in caplog.text


def test_runs_for_a_key_start_at_least_the_interval_apart() -> None:
    async def scenario() -> tuple[list[list[int]], list[float]]:
        loop = asyncio.get_running_loop()
        runs: list[list[int]] = []
        starts: list[float] = []

        async def run(key: str, items: list[int]) -> None:
            runs.append(items)
            starts.append(loop.time())

        coalescer: Coalescer[str, int] = Coalescer(min_interval_s=0.05)
        coalescer.submit("a", 1, run)
        await asyncio.sleep(0.01)  # the first run is done; the next may not start for a while
        coalescer.submit("a", 2, run)
        await asyncio.sleep(0.01)
        coalescer.submit("a", 3, run)
        await coalescer.idle()
        return runs, starts

    runs, starts = asyncio.run(scenario())
    assert runs == [[1], [2, 3]]
    assert starts[1] - starts[0] >= 0.05
