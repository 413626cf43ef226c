"""The reprint queue on disk, so that no slip waiting for the printer is lost to a restart.

One SQLite file in the kiosk's state directory. Every change is one transaction, written with
a rollback journal and `synchronous = FULL` before the call returns: a crash or power cut
mid-write leaves the queue as it was before or after that change, and SQLite rolls the
interrupted change back (from the hot journal) on the next open. A file that is not a readable
queue is never deleted: it is set aside with its journal, the store starts empty and says so in
`fault`, which the agent reports to staff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from types import TracebackType

from kiosk.errors import CorruptStateFile, StateFileError
from printers import SlipData

log = logging.getLogger("madoguchi.kiosk")

FILE_NAME = "reprints.sqlite3"
#: The file's `PRAGMA user_version`. A file of another format is refused, never rewritten.
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE reprints (
    position INTEGER PRIMARY KEY,       -- issue order
    ticket_id INTEGER NOT NULL UNIQUE,
    slip TEXT NOT NULL                  -- the SlipData as JSON
)
"""
#: SQLite's companion files; a hot journal must stay next to its database to be rolled back.
COMPANIONS = ("-journal", "-wal", "-shm")
#: SQLite's answers for a file that is not (or no longer) a database.
CORRUPTION = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class ReprintStore:
    """Slips waiting for a reprint, by ticket id in issue order; safe to share between threads.

    Reads come from memory, loaded when the store opens; every change is on disk when the call
    returns. If the disk refuses a change the store carries on in memory (the visitor's ticket
    matters more than the file) and `fault` tells staff what a restart would cost. `fault` is
    empty while the file holds exactly the queue.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self.fault = ""
        self._lock = threading.Lock()
        try:
            # Owner only: a slip's status URL carries the token that lets its holder cancel.
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StateFileError(f"cannot create the kiosk state directory: {exc}") from exc
        try:
            self._db, self._slips = _open(self.path)
        except CorruptStateFile as exc:
            kept = _set_aside(self.path)
            self._note(f"the reprint queue was unreadable ({exc}) and is kept as {kept}; "
                       "its slips will not be reprinted")
            self._db, self._slips = _open(self.path)
        if self._slips:
            log.warning("%d slip(s) from before the restart wait for the printer: tickets %s",
                        len(self._slips), ", ".join(map(str, self._slips)))

    def add(self, ticket_id: int, slip: SlipData) -> None:
        """Queue a slip; a ticket already queued keeps its place and takes the new slip."""
        with self._lock:
            self._slips[ticket_id] = slip
            self._write(
                "INSERT INTO reprints (ticket_id, slip) VALUES (?, ?) "
                "ON CONFLICT (ticket_id) DO UPDATE SET slip = excluded.slip",
                (ticket_id, _encode(slip)),
                f"the slip of ticket {ticket_id} is not saved and is lost if the kiosk restarts",
            )

    def remove(self, ticket_id: int) -> bool:
        """Take a slip off the queue (printed, or not wanted); False if it was not queued."""
        with self._lock:
            if self._slips.pop(ticket_id, None) is None:
                return False
            self._write(
                "DELETE FROM reprints WHERE ticket_id = ?",
                (ticket_id,),
                f"the slip of ticket {ticket_id} is still saved and prints again after a restart",
            )
            return True

    def first(self) -> tuple[int, SlipData] | None:
        """The oldest queued slip and its ticket id, or None."""
        with self._lock:
            return next(iter(self._slips.items()), None)

    def ticket_ids(self) -> list[int]:
        """The queued tickets in issue order."""
        with self._lock:
            return list(self._slips)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReprintStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _write(self, sql: str, params: tuple[object, ...], consequence: str) -> None:
        try:
            self._db.execute(sql, params)
        except sqlite3.Error as exc:
            self._note(f"{consequence} ({exc})")

    def _note(self, fault: str) -> None:
        log.error("%s: %s", self.path, fault)
        # The first fault stays: it is the one that explains the others (all are in the log).
        self.fault = self.fault or fault


def _open(path: Path) -> tuple[sqlite3.Connection, OrderedDict[int, SlipData]]:
    """Connect, check and read the file, creating the table in a new one."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StateFileError(f"cannot open the reprint queue {path}: {exc}") from exc
    try:
        slips = OrderedDict(_decode(row) for row in _rows(db, path))
    except BaseException:
        db.close()
        raise
    return db, slips


def _rows(db: sqlite3.Connection, path: Path) -> list[tuple[object, object]]:
    try:
        db.execute("PRAGMA synchronous = FULL")  # the default, made explicit: durability first
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise CorruptStateFile("; ".join(problems[:3]))
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            db.execute("BEGIN IMMEDIATE")
            with db:  # commits, or rolls back on an error: never a table without its version
                db.execute(SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise StateFileError(
                f"{path} is in format {version}, this kiosk reads format {SCHEMA_VERSION} "
                "(written by another version?): run that version, or move the file away"
            )
        rows: list[tuple[object, object]] = db.execute(
            "SELECT ticket_id, slip FROM reprints ORDER BY position"
        ).fetchall()
    except sqlite3.Error as exc:
        if exc.sqlite_errorname in CORRUPTION:
            raise CorruptStateFile(str(exc)) from exc
        raise StateFileError(f"cannot use the reprint queue {path}: {exc}") from exc
    return rows


def _set_aside(path: Path) -> Path:
    """Rename the file and its companions to NAME.corrupt-STAMP[-n]; return the new name."""
    base = f"{path.name}.corrupt-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    kept = path.with_name(base)
    for n in itertools.count(2):
        if not kept.exists():
            break
        kept = path.with_name(f"{base}-{n}")
    try:
        for suffix in ("", *COMPANIONS):
            source = path.with_name(path.name + suffix)
            if source.exists():
                source.rename(kept.with_name(kept.name + suffix))
    except OSError as exc:
        raise StateFileError(f"cannot set the unreadable {path} aside: {exc}") from exc
    return kept


#: SlipData's time fields, stored as ISO 8601 (with their UTC offsets, which the slip prints in).
_TIMES = tuple(f.name for f in dataclasses.fields(SlipData) if "datetime" in str(f.type))


def _encode(slip: SlipData) -> str:
    fields = dataclasses.asdict(slip)
    for name in _TIMES:
        if fields[name] is not None:
            fields[name] = fields[name].isoformat()
    return json.dumps(fields, ensure_ascii=False)


def _decode(row: tuple[object, object]) -> tuple[int, SlipData]:
    """A row as (ticket id, slip); anything this module did not write is corruption."""
    ticket_id, text = row
    if not isinstance(ticket_id, int) or not isinstance(text, str):
        raise CorruptStateFile(f"a row holds {ticket_id!r} and {type(text).__name__}, not a "
                               "ticket id and its slip")
    try:
        fields = json.loads(text)
        for name in _TIMES:
            if fields.get(name) is not None:
                fields[name] = dt.datetime.fromisoformat(fields[name])
        return ticket_id, SlipData(**fields)
    except (ValueError, TypeError, KeyError) as exc:
        raise CorruptStateFile(f"the slip of ticket {ticket_id!r} is unreadable: {exc!r}") from exc
