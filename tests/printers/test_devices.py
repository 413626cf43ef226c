"""Serial and USB printers through python-escpos: a serial port for real (a pseudo-terminal that
the virtual printer serves, opened by pyserial like any port), USB faked at pyusb's edge (the
bus), with the same virtual printer behind it."""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import usb.core

from printers.connections import open_printer
from printers.errors import PaperOut
from printers.slip import SlipData
from printers.status import print_slip
from printers.virtual import PrinterSession, VirtualPrinter


@pytest.fixture
def serial_printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "slips", dots=384, serial=True) as printer:
        yield printer


def printed(printer: VirtualPrinter, count: int) -> list[Any]:
    """The printer's slips once `count` have been decoded (its port is read in a thread)."""
    deadline = time.monotonic() + 5
    while len(printer.slips) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return printer.slips


# Eight status queries around a job at a 5 s timeout would take 40 s if a reply of one byte
# were only taken at the timeout: the test's own timeout says it is taken when it arrives.
@pytest.mark.timeout(20)
def test_serial_printer_prints_and_answers_status(
    make_slip: Callable[..., SlipData], serial_printer: VirtualPrinter
) -> None:
    assert serial_printer.uri.startswith("serial:///dev/")
    connection = open_printer(f"{serial_printer.uri}?baudrate=19200")
    connection.status_timeout = 5.0
    for number in ("A-012", "A-013"):
        result = print_slip(connection, make_slip(display_number=number))
        assert result.before.state == result.after.state == "ok"
    slips = printed(serial_printer, 2)
    assert ["A-012" in s.text_lines for s in slips] == [True, False]
    assert "A-013" in slips[1].text_lines
    assert all(len(s.qr_payloads) == 1 for s in slips)
    assert serial_printer.status_queries == 16


@pytest.mark.timeout(20)
def test_serial_printer_out_of_paper_stops_the_job(
    make_slip: Callable[..., SlipData], serial_printer: VirtualPrinter
) -> None:
    serial_printer.state = "paper_out"
    with pytest.raises(PaperOut):
        print_slip(open_printer(serial_printer.uri), make_slip())
    time.sleep(0.2)  # anything sent would have been decoded by now
    assert serial_printer.slips == [] and serial_printer.rejected == []


class _Backend:
    """Not libusb1: python-escpos then leaves the kernel driver alone."""


class _Context:
    """What `usb.util.dispose_resources` releases when python-escpos closes the device."""

    def dispose(self, device: Any, close_handle: bool = True) -> None:
        device.disposed = True


class FakeUsbPrinter:
    """A printer on the bus as pyusb shows it: bulk writes go to a virtual printer's command
    stream, bulk reads return its replies."""

    backend = _Backend()

    def __init__(self, session: PrinterSession, in_ep: int, out_ep: int) -> None:
        self.session, self.in_ep, self.out_ep = session, in_ep, out_ep
        self.pending = b""
        self.disposed = False
        self._ctx = _Context()

    def set_configuration(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def write(self, endpoint: int, data: bytes, timeout: int | None = None) -> int:
        assert endpoint == self.out_ep
        self.pending += self.session.feed(bytes(data))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> array[int]:
        assert endpoint == self.in_ep
        if not self.pending:
            raise usb.core.USBTimeoutError("timed out", errno=110, error_code=-7)
        reply, self.pending = self.pending[:size], self.pending[size:]
        return array("B", reply)


def test_usb_printer_prints_and_answers_status(
    make_slip: Callable[..., SlipData], virtual_printer: VirtualPrinter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    device = FakeUsbPrinter(virtual_printer.session(), in_ep=0x82, out_ep=0x01)
    found: list[dict[str, Any]] = []

    def find(**match: Any) -> FakeUsbPrinter | None:
        found.append(match)
        return device if (match["idVendor"], match["idProduct"]) == (0x04B8, 0x0202) else None

    monkeypatch.setattr(usb.core, "find", find)
    result = print_slip(open_printer("usb://04b8:0202"), make_slip())
    assert result.before.state == result.after.state == "ok"
    assert found == [{"idVendor": 0x04B8, "idProduct": 0x0202}]
    (slip,) = virtual_printer.slips
    assert "A-012" in slip.text_lines and len(slip.qr_payloads) == 1
    assert virtual_printer.status_queries == 8 and device.disposed  # the job closed it
    with pytest.raises(Exception, match="cannot open"):
        print_slip(open_printer("usb://04b8:0e15"), make_slip())  # another model: not there
