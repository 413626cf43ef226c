"""ESC/POS slips in Japanese (Kanji mode or raster), printer connections and status.

The kiosk agent needs: `open_printer(uri)`, `SlipData`, `print_slip(connection, slip, …)` and the
`PrinterError` family; the rest is for tools and tests.
"""

from printers.connections import PrinterConnection, open_printer
from printers.decode import DecodedSlip, decode_escpos
from printers.errors import (
    BadPrinterReply,
    BadPrinterUri,
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterFault,
    PrinterOffline,
    PrinterTimeout,
    SlipRenderError,
)
from printers.slip import SlipData, render_slip
from printers.status import PrinterStatus, PrintResult, print_slip, query_status, render_bytes
from printers.virtual import VirtualPrinter

__all__ = [
    "BadPrinterReply",
    "BadPrinterUri",
    "CoverOpen",
    "DecodedSlip",
    "PaperOut",
    "PrintResult",
    "PrinterConnection",
    "PrinterError",
    "PrinterFault",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTimeout",
    "SlipData",
    "SlipRenderError",
    "VirtualPrinter",
    "decode_escpos",
    "open_printer",
    "print_slip",
    "query_status",
    "render_bytes",
    "render_slip",
]
