"""Real-time printer status (DLE EOT) and the checked print job, `print_slip`.

Status is asked before a job (do not print into an empty printer) and after it (did the paper
run out half-way?). A printer that never answers still gets the job, but the result says it was
not verified, so staff can be told to look at it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from escpos.printer import Dummy

from printers.errors import BadPrinterReply, CoverOpen, PaperOut, PrinterFault, PrinterOffline
from printers.link import Link, PrinterConnection
from printers.slip import Mode, QrMode, SlipData, render_slip

DLE_EOT = b"\x10\x04"


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said; with `answered` False the other fields are not known to be true."""

    online: bool
    cover_open: bool
    paper_near_end: bool
    paper_out: bool
    error: bool
    answered: bool

    @classmethod
    def unknown(cls) -> PrinterStatus:
        return cls(False, False, False, False, False, answered=False)

    @property
    def state(self) -> str:
        """One word for staff screens and logs."""
        if not self.answered:
            return "unknown"
        for flag in ("cover_open", "paper_out", "error"):
            if getattr(self, flag):
                return flag
        if not self.online:
            return "offline"
        return "paper_near_end" if self.paper_near_end else "ok"


@dataclass(frozen=True)
class PrintResult:
    """A slip that was sent; `verified` is False when the printer did not answer status."""

    uri: str
    bytes_sent: int
    before: PrinterStatus
    after: PrinterStatus
    seconds: float

    @property
    def verified(self) -> bool:
        return self.before.answered and self.after.answered

    @property
    def warnings(self) -> tuple[str, ...]:
        notes = []
        if not self.verified:
            notes.append("printer did not answer status queries: slip not verified")
        if self.after.paper_near_end:
            notes.append("paper near end")
        return tuple(notes)


def parse_status(replies: dict[int, bytes]) -> PrinterStatus:
    """Interpret DLE EOT replies keyed by n (1-4); a missing n leaves its flags False.

    Raises BadPrinterReply for anything that is not one status byte: every real-time status byte
    has bits 1 and 4 set and bits 0 and 7 clear, which also tells it apart from an Automatic Status
    Back block or from a stray text echo.
    """
    bits: dict[int, int] = {}
    for n, reply in replies.items():
        if len(reply) != 1 or reply[0] & 0x93 != 0x12:
            raise BadPrinterReply(
                f"the printer answered DLE EOT {n} with {reply.hex(' ') or 'nothing'}, which is "
                "not an ESC/POS status byte (one byte with bits 1 and 4 set, 0 and 7 clear); "
                "is Automatic Status Back on, or is this not an ESC/POS printer?"
            )
        bits[n] = reply[0]
    printer, offline, error, paper = (bits.get(n, 0) for n in (1, 2, 3, 4))
    return PrinterStatus(
        online=1 in bits and not printer & 0x08,
        cover_open=bool(offline & 0x04),
        paper_near_end=paper & 0x0C == 0x0C,
        paper_out=paper & 0x60 == 0x60 or bool(offline & 0x20),
        error=bool(offline & 0x40) or bool(error & 0x68),  # 0x68: cutter, fatal, auto-recover
        answered=len(bits) == 4,
    )


def read_status(link: Link, timeout: float) -> PrinterStatus:
    """Ask DLE EOT 1-4 in turn; stop at the first silence, so a mute printer costs one timeout."""
    link.drain()
    replies: dict[int, bytes] = {}
    for n in (1, 2, 3, 4):
        link.send(DLE_EOT + bytes((n,)))
        reply = link.receive(timeout)
        if not reply:
            break
        replies[n] = reply
    return parse_status(replies) if replies else PrinterStatus.unknown()


def check(status: PrinterStatus, uri: str, *, after_job: bool = False) -> None:
    """Raise the typed error a kiosk shows staff; do nothing for ok, near-end or unknown."""
    when = " after the slip was sent (it may be incomplete)" if after_job else ""
    if status.cover_open:
        raise CoverOpen(f"{uri}: the printer cover is open{when}", status=status)
    if status.paper_out:
        raise PaperOut(f"{uri}: the printer is out of paper{when}", status=status)
    if status.error:
        raise PrinterFault(f"{uri}: the printer reports an error{when}", status=status)
    if status.answered and not status.online:
        raise PrinterOffline(f"{uri}: the printer is offline{when}", status=status)


def render_bytes(
    slip: SlipData,
    *,
    mode: Mode = "kanji",
    width: int = 58,
    qr: QrMode = "native",
    font_path: str | Path | None = None,
) -> bytes:
    """The complete ESC/POS job for `slip`."""
    dummy = Dummy()
    render_slip(dummy, slip, mode=mode, width=width, qr=qr, font_path=font_path)
    return dummy.output


def print_slip(
    connection: PrinterConnection,
    slip: SlipData,
    *,
    mode: Mode = "kanji",
    width: int = 58,
    qr: QrMode = "native",
    font_path: str | Path | None = None,
) -> PrintResult:
    """Check status, send the slip, check again; raise PrinterError subclasses on faults.

    The slip is rendered before the printer is locked, so rendering never holds up other jobs.
    """
    data = render_bytes(slip, mode=mode, width=width, qr=qr, font_path=font_path)
    started = time.monotonic()
    with connection.job() as link:
        before = read_status(link, connection.status_timeout)
        check(before, connection.uri)
        link.send(data)
        # A printer that was mute before the job would only cost a second timeout now.
        after = read_status(link, connection.status_timeout) if before.answered else before
    check(after, connection.uri, after_job=True)
    return PrintResult(connection.uri, len(data), before, after, time.monotonic() - started)


def query_status(connection: PrinterConnection) -> PrinterStatus:
    """The printer's status now, without printing."""
    with connection.job() as link:
        return read_status(link, connection.status_timeout)
