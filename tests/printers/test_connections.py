"""Printer URIs, the TCP and file transports, and one job at a time per printer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from printers.connections import TcpConnection, open_printer
from printers.decode import decode_escpos
from printers.devices import EscposDeviceConnection
from printers.errors import BadPrinterUri, PrinterOffline, PrinterTimeout
from printers.slip import SlipData
from printers.status import print_slip
from printers.virtual import VirtualPrinter


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://printer", "unsupported printer URI"),
        ("lpt1", "unsupported printer URI"),
        ("tcp://", "needs a host"),
        ("tcp://host:99999", "bad port"),
        ("tcp://host:abc", "bad port"),
        ("tcp://host?timeout=3", "unknown option timeout"),
        ("tcp://host?status_timeout=-1", "between 0 and 600"),
        ("tcp://host?connect_timeout=soon", "must be a number"),
        ("usb://04b8", "usb://VID:PID"),
        ("usb://zz:01", "usb://VID:PID"),
        ("serial://dev/ttyUSB0", "absolute path"),
        ("serial:///dev/ttyUSB0?baudrate=12345", "standard rate"),
        ("file://", "absolute path"),
        ("dummy://?x=1", "unknown option x"),
    ],
)
def test_bad_uris(uri: str, message: str) -> None:
    with pytest.raises(BadPrinterUri, match=message) as caught:
        open_printer(uri)
    assert isinstance(caught.value, ValueError)  # configuration code may catch ValueError


def test_good_uris() -> None:
    tcp = open_printer("tcp://192.0.2.7?status_timeout=0.3")
    assert isinstance(tcp, TcpConnection)
    assert (tcp.host, tcp.port, tcp.status_timeout) == ("192.0.2.7", 9100, 0.3)
    assert isinstance(open_printer("usb://04b8:0e15?in_ep=0x81"), EscposDeviceConnection)
    assert isinstance(open_printer("serial:///dev/ttyS0?baudrate=9600"), EscposDeviceConnection)


def test_file_printer_receives_the_job(make_slip: Callable[..., SlipData], tmp_path: Path) -> None:
    target = tmp_path / "job.bin"
    result = print_slip(open_printer(f"file://{target}"), make_slip(), mode="kanji")
    assert not result.verified  # a file cannot answer status
    decoded = decode_escpos(target.read_bytes())
    assert "A-012" in decoded.text_lines and decoded.cuts == 1


def test_refused_connection_is_offline(make_slip: Callable[..., SlipData]) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PrinterOffline, match="cannot connect"):
        print_slip(open_printer(f"tcp://127.0.0.1:{port}"), make_slip())


def test_missing_usb_device_is_offline(make_slip: Callable[..., SlipData]) -> None:
    with pytest.raises(PrinterOffline, match=r"cannot open|needs the pyusb package"):
        print_slip(open_printer("usb://ffff:fffe"), make_slip())


@pytest.mark.timeout(20)
def test_concurrent_jobs_do_not_interleave(
    make_slip: Callable[..., SlipData], virtual_printer: VirtualPrinter
) -> None:
    numbers = [f"C-{n:03d}" for n in range(6)]
    errors: list[BaseException] = []

    def job(number: str) -> None:
        try:
            # Each thread has its own connection object; the lock is per printer address.
            print_slip(open_printer(virtual_printer.uri), make_slip(display_number=number))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    printed = sorted(n for slip in virtual_printer.slips for n in numbers if n in slip.text_lines)
    assert printed == numbers
    assert all(len(slip.qr_payloads) == 1 for slip in virtual_printer.slips)


def test_busy_printer_times_out(virtual_printer: VirtualPrinter) -> None:
    first = open_printer(virtual_printer.uri)
    second = open_printer(virtual_printer.uri)
    second.busy_timeout = 0.2
    with first.job():
        started = time.monotonic()
        with pytest.raises(PrinterTimeout, match="busy"), second.job():
            pass
        assert time.monotonic() - started < 1
