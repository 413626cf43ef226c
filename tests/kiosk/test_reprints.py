"""The reprint queue on disk: kept across restarts, whole after a crash, never silently lost."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk import ReprintStore, StateFileError
from printers import SlipData

FILE = "reprints.sqlite3"

#: Run in a child process: begin a write that rewrites the whole queue, then wait to be killed.
#: A one-page cache makes SQLite spill changed pages into the file before the commit, which is
#: what a crash in the middle of a large write leaves behind.
INTERRUPTED_WRITE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size = 1")
db.execute("BEGIN IMMEDIATE")
db.execute("DELETE FROM reprints")
db.executemany("INSERT INTO reprints (ticket_id, slip) VALUES (?, ?)",
               [(1000 + n, "x" * 4000) for n in range(100)])
print("mid-write", flush=True)
sys.stdin.read()
"""


JST = dt.timezone(dt.timedelta(hours=9))


def slip(number: int) -> SlipData:
    return SlipData(
        site_name="練馬区民事務所", service_name="住民異動", display_number=f"A{number:03d}",
        issued_at=dt.datetime(2026, 12, 1, 10, number % 60, tzinfo=JST), ahead=number,
        est_wait_min=5, est_wait_max=None, status_url=f"http://server/t/tok{number}",
        lang="en", guidance="住民異動 → 国保", english_line="Your number",
        route_done_at=dt.datetime(2026, 12, 1, 11, number % 60, tzinfo=JST),
    )


def queue_of(state_dir: Path) -> dict[int, SlipData]:
    """The queue as a restarted kiosk finds it."""
    with ReprintStore(state_dir) as store:
        assert store.fault == ""
        found = {}
        while (first := store.first()) is not None:
            found[first[0]] = first[1]
            store.remove(first[0])
        return found


def test_the_queue_survives_a_restart_in_order_with_every_field(state_dir: Path) -> None:
    with ReprintStore(state_dir) as store:
        for number in (7, 3, 5):
            store.add(number, slip(number))
        store.add(7, slip(8))  # queued again (a retried tap): same place, newer slip
        assert store.remove(5) and not store.remove(5)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700  # slips carry ticket tokens

    with ReprintStore(state_dir) as store:
        assert store.ticket_ids() == [7, 3]
        assert store.first() == (7, slip(8))
    assert queue_of(state_dir) == {7: slip(8), 3: slip(3)}
    assert queue_of(state_dir) == {}  # removals are kept too


def test_a_write_killed_midway_leaves_the_queue_as_it_was(state_dir: Path) -> None:
    with ReprintStore(state_dir) as store:
        store.add(1, slip(1))
        store.add(2, slip(2))
    before = (state_dir / FILE).read_bytes()

    with subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_WRITE, str(state_dir / FILE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as child:
        assert child.stdout is not None and child.stdout.readline() == "mid-write\n"
        child.kill()
    # The crash left a half-written file and the journal that undoes it.
    assert (state_dir / FILE).read_bytes() != before
    assert (state_dir / f"{FILE}-journal").stat().st_size > 0

    assert queue_of(state_dir) == {1: slip(1), 2: slip(2)}
    assert list(state_dir.iterdir()) == [state_dir / FILE]  # rolled back, nothing set aside


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garble(path: Path) -> None:
    path.write_bytes(b"\x00not a database\xff" * 500)


def spoil_a_slip(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE reprints SET slip = '{\"number\": 1}' WHERE ticket_id = 2")
    db.close()


@pytest.mark.parametrize("damage", [garble, truncate, spoil_a_slip])
def test_an_unreadable_file_is_set_aside_loudly_and_the_kiosk_starts_empty(
    state_dir: Path, damage: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    with ReprintStore(state_dir) as store:
        for number in range(1, 40):  # several pages, so that half a file is a broken one
            store.add(number, slip(number))
    damage(state_dir / FILE)
    damaged = (state_dir / FILE).read_bytes()

    with caplog.at_level(logging.ERROR, logger="madoguchi.kiosk"), ReprintStore(state_dir) as store:
        assert store.ticket_ids() == []
        store.add(99, slip(99))
    (kept,) = state_dir.glob(f"{FILE}.corrupt-*")
    assert kept.read_bytes() == damaged
    assert str(kept) in store.fault and "will not be reprinted" in store.fault
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert str(kept) in caplog.records[0].getMessage()
    assert queue_of(state_dir) == {99: slip(99)}


def test_a_file_of_another_format_is_refused_and_left_alone(state_dir: Path) -> None:
    state_dir.mkdir()
    with sqlite3.connect(state_dir / FILE) as db:
        db.execute("PRAGMA user_version = 2")
    db.close()
    original = (state_dir / FILE).read_bytes()
    with pytest.raises(StateFileError, match="format 2, this kiosk reads format 1"):
        ReprintStore(state_dir)
    assert list(state_dir.iterdir()) == [state_dir / FILE]
    assert (state_dir / FILE).read_bytes() == original


def test_a_disk_that_refuses_writes_keeps_the_slip_in_memory_and_says_so(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ReprintStore(state_dir) as store:
        store.add(1, slip(1))
        # SQLite cannot create its journal where a directory stands: every write fails.
        (state_dir / f"{FILE}-journal").mkdir()
        with caplog.at_level(logging.ERROR, logger="madoguchi.kiosk"):
            store.add(2, slip(2))
            assert store.remove(1)
        assert store.ticket_ids() == [2]  # the printer still gets it while the kiosk runs
        assert "ticket 2 is not saved" in store.fault
        assert len(caplog.records) == 2
        (state_dir / f"{FILE}-journal").rmdir()
    assert queue_of(state_dir) == {1: slip(1)}  # exactly what the fault warned of
