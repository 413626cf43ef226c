"""The network path: print_slip over TCP to the virtual printer on an ephemeral port."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from printers.connections import open_printer
from printers.errors import CoverOpen, PaperOut, PrinterOffline
from printers.slip import SlipData
from printers.status import print_slip, query_status
from printers.virtual import VirtualPrinter

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("mode", ["kanji", "raster"])
def test_slip_prints_and_its_png_scans(
    make_slip: Callable[..., SlipData],
    virtual_printer: VirtualPrinter,
    zbar: Callable[[Image.Image | Path], list[str]],
    mode: str,
) -> None:
    slip = make_slip()
    result = print_slip(open_printer(virtual_printer.uri), slip, mode=mode)  # type: ignore[arg-type]
    assert result.verified and result.after.state == "ok"
    # The post-job status reply comes after the cut was processed, so the slip is recorded.
    assert len(virtual_printer.slips) == 1 and len(virtual_printer.pngs) == 1
    if mode == "kanji":
        assert "A-012" in virtual_printer.slips[0].text_lines
        assert virtual_printer.slips[0].qr_payloads == [slip.status_url]
    assert zbar(virtual_printer.pngs[0]) == [slip.status_url]
    assert virtual_printer.status_queries == 8


@pytest.mark.parametrize(
    ("state", "error"),
    [("paper_out", PaperOut), ("cover_open", CoverOpen), ("offline", PrinterOffline)],
)
def test_faults_raise_and_nothing_prints(
    make_slip: Callable[..., SlipData],
    virtual_printer: VirtualPrinter,
    state: str,
    error: type[Exception],
) -> None:
    virtual_printer.state = state
    with pytest.raises(error):
        print_slip(open_printer(virtual_printer.uri), make_slip())
    time.sleep(0.05)  # give the server thread time to record anything it might have received
    assert virtual_printer.slips == [] and virtual_printer.rejected == []
    assert virtual_printer.pngs == [] and list(virtual_printer.out_dir.iterdir()) == []


def test_silent_printer_prints_unverified_within_the_timeout(
    make_slip: Callable[..., SlipData],
    virtual_printer: VirtualPrinter,
    eventually: Callable[[Callable[[], bool]], None],
) -> None:
    virtual_printer.state = "silent"
    started = time.monotonic()
    result = print_slip(open_printer(f"{virtual_printer.uri}?status_timeout=0.3"), make_slip())
    assert time.monotonic() - started < 1.5
    assert not result.verified and result.before.state == "unknown"
    eventually(lambda: len(virtual_printer.slips) == 1)


def test_query_status_reports_state(virtual_printer: VirtualPrinter) -> None:
    connection = open_printer(virtual_printer.uri)
    assert query_status(connection).state == "ok"
    virtual_printer.state = "paper_near_end"
    assert query_status(connection).state == "paper_near_end"


def test_data_sent_despite_a_fault_is_refused_and_recorded(
    virtual_printer: VirtualPrinter, eventually: Callable[[Callable[[], bool]], None]
) -> None:
    virtual_printer.state = "paper_out"
    with socket.create_connection(("127.0.0.1", virtual_printer.port), timeout=2) as raw:
        raw.sendall(b"\x1b@hello\n\x1dV\x00")
    eventually(lambda: len(virtual_printer.rejected) == 1)
    assert virtual_printer.slips == [] and virtual_printer.rejected[0].text_lines == ["hello"]


def test_garbage_does_not_stop_the_server(
    make_slip: Callable[..., SlipData],
    virtual_printer: VirtualPrinter,
    eventually: Callable[[Callable[[], bool]], None],
) -> None:
    with socket.create_connection(("127.0.0.1", virtual_printer.port), timeout=2) as raw:
        raw.sendall(bytes(range(256)) * 4 + b"\x1d(k\xff\xff1P0tru")  # ends inside a command
    with socket.create_connection(("127.0.0.1", virtual_printer.port), timeout=2) as raw:
        raw.sendall(b"\x1b\x7f\x1d\x99ok\n\x1dV\x00")
    eventually(lambda: len(virtual_printer.slips) >= 2)
    result = print_slip(open_printer(virtual_printer.uri), make_slip())
    assert result.verified
    assert "A-012" in virtual_printer.slips[-1].text_lines
