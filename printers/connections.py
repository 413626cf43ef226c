"""Printer connections named by URI, each allowing one job at a time per printer.

    tcp://192.168.1.50:9100   raw TCP ("JetDirect"), the usual for networked receipt printers
    usb://04b8:0202           USB vendor:product in hex (needs pyusb)
    serial:///dev/ttyUSB0?baudrate=19200   (needs pyserial)
    file:///dev/usb/lp0       a device node or a file (no status: never verified)
    dummy://                  in memory, for tests

TCP options: `?connect_timeout=3&status_timeout=1&write_timeout=10` (seconds).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from printers import devices
from printers.errors import BadPrinterUri, PrinterOffline, PrinterTimeout
from printers.link import Link, PrinterConnection

__all__ = ["DummyConnection", "Link", "PrinterConnection", "TcpConnection", "open_printer"]
BAUD_RATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200)


class _SocketLink(Link):
    def __init__(self, sock: socket.socket, uri: str, write_timeout: float) -> None:
        self.sock, self.uri, self.write_timeout = sock, uri, write_timeout

    def send(self, data: bytes) -> None:
        self.sock.settimeout(self.write_timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise PrinterTimeout(
                f"{self.uri}: not accepting data for {self.write_timeout} s"
            ) from exc
        except OSError as exc:
            raise PrinterOffline(f"{self.uri}: connection lost while sending ({exc})") from exc

    def receive(self, timeout: float) -> bytes:
        self.sock.settimeout(max(0.0, timeout))  # 0.0 makes the socket non-blocking
        try:
            data = self.sock.recv(64)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            raise PrinterOffline(f"{self.uri}: connection lost while reading ({exc})") from exc
        if not data and timeout > 0:
            raise PrinterOffline(f"{self.uri}: the printer closed the connection")
        return data


@dataclass
class TcpConnection(PrinterConnection):
    host: str = ""
    port: int = 9100
    connect_timeout: float = 3.0
    write_timeout: float = 10.0

    def _open(self) -> Link:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise PrinterTimeout(f"{self.uri}: no answer within {self.connect_timeout} s") from exc
        except OSError as exc:
            raise PrinterOffline(f"{self.uri}: cannot connect ({exc.strerror or exc})") from exc
        return _SocketLink(sock, self.uri, self.write_timeout)

    def _close(self, link: Link) -> None:
        assert isinstance(link, _SocketLink)
        with contextlib.suppress(PrinterOffline):
            link.drain()  # unread input would make close() reset the connection
        link.sock.close()


class DummyLink(Link):
    def __init__(self, connection: DummyConnection) -> None:
        self.connection = connection
        self.pending = b""

    def send(self, data: bytes) -> None:
        self.connection.output += data
        if len(data) == 3 and data[:2] == b"\x10\x04":
            self.pending += self.connection.replies.get(data[2], b"")

    def receive(self, timeout: float) -> bytes:
        data, self.pending = self.pending, b""
        return data


@dataclass
class DummyConnection(PrinterConnection):
    """In memory: `output` collects every byte; DLE EOT n is answered with `replies[n]`."""

    replies: Mapping[int, bytes] = field(default_factory=dict)
    output: bytes = b""

    @property
    def key(self) -> str:
        return f"dummy:{id(self)}"

    def _open(self) -> Link:
        return DummyLink(self)


def open_printer(uri: str) -> PrinterConnection:
    """The connection for `uri` (nothing is opened until a job starts)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    try:
        options = dict(parse_qsl(parts.query, strict_parsing=bool(parts.query)))
    except ValueError as exc:
        raise BadPrinterUri(f"bad options in printer URI {uri!r}: {exc}") from None
    if scheme == "tcp":
        return _tcp(uri, parts.hostname, _port(uri, parts), options)
    if scheme == "usb":
        return _usb(uri, parts.netloc, options)
    if scheme in ("serial", "file"):
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise BadPrinterUri(
                f"{scheme} URI needs an absolute path, like {scheme}:///dev/x: {uri!r}"
            )
        path = unquote(parts.path)
        return _serial(uri, path, options) if scheme == "serial" else _file(uri, path, options)
    if scheme == "dummy":
        _no_options(uri, options, ())
        return DummyConnection(uri)
    raise BadPrinterUri(
        f"unsupported printer URI {uri!r}: use one of "
        "tcp://HOST:9100, usb://VID:PID, serial:///dev/ttyUSB0, file:///PATH or dummy://"
    )


def _no_options(uri: str, options: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        raise BadPrinterUri(f"unknown option {', '.join(unknown)} in printer URI {uri!r}{hint}")


def _number(uri: str, options: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(options.get(name, default))
    except ValueError:
        raise BadPrinterUri(f"{name} must be a number in printer URI {uri!r}") from None
    if not 0 < value <= 600:
        raise BadPrinterUri(f"{name} must be between 0 and 600 seconds in printer URI {uri!r}")
    return value


def _port(uri: str, parts: Any) -> int:
    try:
        port = parts.port
    except ValueError:
        raise BadPrinterUri(f"bad port in printer URI {uri!r} (expected 1-65535)") from None
    return 9100 if port is None else int(port)


def _tcp(uri: str, host: str | None, port: int, options: Mapping[str, str]) -> TcpConnection:
    if not host:
        raise BadPrinterUri(f"tcp printer URI needs a host, like tcp://192.168.1.50:9100: {uri!r}")
    _no_options(uri, options, ("connect_timeout", "status_timeout", "write_timeout"))
    return TcpConnection(
        uri,
        status_timeout=_number(uri, options, "status_timeout", 1.0),
        host=host,
        port=port,
        connect_timeout=_number(uri, options, "connect_timeout", 3.0),
        write_timeout=_number(uri, options, "write_timeout", 10.0),
    )


def _usb(uri: str, netloc: str, options: Mapping[str, str]) -> PrinterConnection:
    _no_options(uri, options, ("in_ep", "out_ep"))
    try:
        vendor, product = (int(part, 16) for part in netloc.split(":"))
        in_ep, out_ep = (int(options.get(k, d), 0) for k, d in (("in_ep", "0x82"), ("out_ep", "1")))
    except ValueError:
        raise BadPrinterUri(
            f"usb printer URI must be usb://VID:PID in hex, like usb://04b8:0202: {uri!r}"
        ) from None
    return devices.usb(uri, vendor, product, in_ep, out_ep)


def _serial(uri: str, path: str, options: Mapping[str, str]) -> PrinterConnection:
    _no_options(uri, options, ("baudrate",))
    baudrate = options.get("baudrate", "19200")
    if not baudrate.isdigit() or int(baudrate) not in BAUD_RATES:
        raise BadPrinterUri(f"baudrate must be a standard rate such as 9600 or 19200: {uri!r}")
    return devices.serial(uri, path, int(baudrate))


def _file(uri: str, path: str, options: Mapping[str, str]) -> PrinterConnection:
    _no_options(uri, options, ())
    return devices.file(uri, path)
