"""USB, serial and file printers through python-escpos, imported only when used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from printers.errors import PrinterError, PrinterOffline
from printers.link import Link, PrinterConnection


class _EscposLink(Link):
    """A python-escpos device (Usb, Serial, File) with a timed read."""

    def __init__(self, device: Any, read: Callable[[float], bytes] | None) -> None:
        self.device, self.read = device, read

    def send(self, data: bytes) -> None:
        try:
            self.device._raw(data)
        except Exception as exc:  # pyusb/pyserial/OS errors have no common base class
            raise PrinterOffline(f"cannot write to the printer ({exc})") from exc

    def receive(self, timeout: float) -> bytes:
        if self.read is None:
            return b""
        try:
            return bytes(self.read(timeout))
        except Exception:  # a read timeout is an exception in pyusb
            return b""


@dataclass
class EscposDeviceConnection(PrinterConnection):
    """USB, serial or file printers through python-escpos, imported only when used."""

    factory: Callable[[], Any] = field(default=lambda: None)
    reader: Callable[[Any, float], bytes] | None = None

    def _open(self) -> Link:
        try:
            device = self.factory()
            device.open()
        except PrinterError:
            raise
        except Exception as exc:  # DeviceNotFoundError, RuntimeError (library missing), OSError
            raise PrinterOffline(f"{self.uri}: cannot open ({exc})") from exc
        reader = self.reader
        return _EscposLink(device, None if reader is None else lambda t: reader(device, t))

    def _close(self, link: Link) -> None:
        assert isinstance(link, _EscposLink)
        link.device.close()


def usb(uri: str, vendor: int, product: int, in_ep: int, out_ep: int) -> EscposDeviceConnection:
    """A USB printer (needs pyusb); status is read from the `in_ep` endpoint."""

    def factory() -> Any:
        from escpos.printer import Usb

        _require(Usb, "pyusb")
        return Usb(vendor, product, timeout=5000, in_ep=in_ep, out_ep=out_ep)

    def read(device: Any, timeout: float) -> bytes:
        return bytes(device.device.read(in_ep, 16, max(1, int(timeout * 1000))))

    return EscposDeviceConnection(uri, factory=factory, reader=read)


def serial(uri: str, path: str, baudrate: int) -> EscposDeviceConnection:
    """A serial printer (needs pyserial)."""

    def factory() -> Any:
        from escpos.printer import Serial

        _require(Serial, "pyserial")
        return Serial(path, baudrate=baudrate, timeout=1)

    def read(device: Any, timeout: float) -> bytes:
        # A status reply is one byte: wait for the first only, then take what else has come
        # (read(16) would wait out the whole timeout for bytes that never come).
        port = device.device
        port.timeout = timeout
        first = bytes(port.read(1))
        return first + bytes(port.read(port.in_waiting)) if first else b""

    return EscposDeviceConnection(uri, factory=factory, reader=read)


def file(uri: str, path: str) -> EscposDeviceConnection:
    """A device node or plain file: write-only, so a job is never verified."""

    def factory() -> Any:
        from escpos.printer import File

        return File(path)

    return EscposDeviceConnection(uri, factory=factory, reader=None)


def _require(printer_class: Any, package: str) -> None:
    # Checked before construction: a half-built python-escpos printer fails again in __del__.
    if not printer_class.is_usable():
        raise PrinterOffline(f"this printer needs the {package} package: pip install {package}")
