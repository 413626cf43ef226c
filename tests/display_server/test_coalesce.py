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
