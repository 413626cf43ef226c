"""The printers package's one exception hierarchy.

Callers (the kiosk agent) catch `PrinterError` to keep the ticket on screen, and the subclasses to
tell staff what to fix: `PaperOut` and `CoverOpen` are for a person at the kiosk, `PrinterOffline`
for whoever looks after the network or the power cable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from printers.status import PrinterStatus


class PrinterError(Exception):
    """Anything that kept a slip from printing; `status` is the last status read, if any."""

    def __init__(self, message: str, *, status: PrinterStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadPrinterUri(PrinterError, ValueError):
    """A printer URI that cannot be understood (a configuration mistake, not a printer fault)."""


class PrinterOffline(PrinterError):
    """The printer cannot be reached, or says it is offline."""


class PrinterTimeout(PrinterOffline):
    """The printer took too long to accept a connection or data, or stayed busy with another job."""


class PaperOut(PrinterError):
    """The paper roll is empty."""


class CoverOpen(PrinterError):
    """The paper cover is open."""


class PrinterFault(PrinterError):
    """The printer reports an error (cutter jam, overheated head, hardware failure)."""


class BadPrinterReply(PrinterError):
    """The printer answered a status query with bytes that are not an ESC/POS status."""


class SlipRenderError(PrinterError):
    """The slip could not be rendered (for example no Japanese font for raster mode)."""
