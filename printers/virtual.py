"""A virtual ESC/POS printer: answers DLE EOT, decodes each slip and saves it as a PNG.

For development without hardware (`madoguchi printer virtual`) and for the tests of the network
and serial paths. It listens on TCP, or on a pseudo-terminal that pyserial opens like any serial
port (`serial=True`). Each connection is read as a stream of commands; a cut ends a slip.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import socketserver
import threading
import tty
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from printers.commands import command_length
from printers.decode import (
    DecodedSlip,
    QrCode,
    RasterImage,
    TextLine,
    decode_escpos,
)
from printers.preview import render_preview

#: DLE EOT 1-4 replies per simulated state (Epson reference: bits 1 and 4 always set; n=1 bit 3
#: offline; n=2 bit 2 cover open, bit 5 stopped by paper end, bit 6 error; n=3 bit 5 fatal error;
#: n=4 bits 2-3 near end, bits 5-6 paper end). "silent" never answers.
REPLIES: dict[str, dict[int, int]] = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "offline": {1: 0x1A, 2: 0x12, 3: 0x12, 4: 0x12},
    "error": {1: 0x1A, 2: 0x52, 3: 0x32, 4: 0x12},
}
STATES: tuple[str, ...] = (*REPLIES, "silent")
PRINTING_STATES = ("ok", "paper_near_end", "silent")


@dataclass
class VirtualPrinter:
    """A threaded TCP server, or with `serial` a pseudo-terminal; use as a context manager and
    give `uri` to `open_printer` (`port` is chosen when 0)."""

    out_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    state: str = "ok"
    dots: int = 576
    serial: bool = False
    slips: list[DecodedSlip] = field(default_factory=list)
    pngs: list[Path] = field(default_factory=list)
    rejected: list[DecodedSlip] = field(default_factory=list)
    status_queries: int = 0

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {self.state!r}")
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._pty: tuple[int, int] | None = None

    def start(self) -> VirtualPrinter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.serial:
            return self._start_pty()
        printer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                printer._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            # A short poll keeps stop() quick; the server is idle between connections anyway.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="virtual-printer",
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def _start_pty(self) -> VirtualPrinter:
        master, port = pty.openpty()
        # Raw, and held open here: bytes pass unchanged, and the port outlives each client.
        tty.setraw(port)
        self._pty = (master, port)
        self._thread = threading.Thread(
            target=self._serve_pty, args=(master,), name="virtual-serial-printer"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pty is not None:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def serve_forever(self) -> None:
        """Block in the foreground (the CLI) until interrupted, starting first if needed."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        if self._pty is not None:
            return f"serial://{os.ttyname(self._pty[1])}"
        return f"tcp://{self.host}:{self.port}"

    def session(self) -> PrinterSession:
        """A new connection's command stream (the TCP and serial ports make their own; a test
        at the USB edge feeds one with what the driver writes)."""
        return PrinterSession(self)

    def _serve(self, sock: socket.socket) -> None:
        session = self.session()
        while chunk := _recv(sock):
            if replies := session.feed(chunk):
                sock.sendall(replies)
        session.close()

    def _serve_pty(self, master: int) -> None:
        session = self.session()
        while not self._stopping.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready and (replies := session.feed(os.read(master, 65536))):
                os.write(master, replies)
        session.close()

    def _answer(self, n: int) -> bytes:
        with self._lock:
            self.status_queries += 1
        reply = REPLIES.get(self.state, {}).get(n)
        return b"" if reply is None else bytes((reply,))

    def _finish(self, data: bytes) -> None:
        slip = decode_escpos(data)
        if not any(isinstance(e, TextLine | QrCode | RasterImage) for e in slip.elements):
            return  # only status queries or initialisation: nothing was printed
        with self._lock:
            if self.state not in PRINTING_STATES:
                # A real printer holds the data until the fault is cleared; here it is refused
                # and recorded, so that tests and operators can see what would have printed.
                self.rejected.append(slip)
                return
            self.slips.append(slip)
            path = self.out_dir / f"slip-{len(self.slips):04d}.png"
            self.pngs.append(path)
        render_preview(slip, dots=self.dots).save(path)


class PrinterSession:
    """One connection's stream of commands: the replies to DLE EOT, a slip at each cut."""

    def __init__(self, printer: VirtualPrinter) -> None:
        self.printer = printer
        self.buffer = bytearray()
        self.scanned = self.job_start = 0

    def feed(self, chunk: bytes) -> bytes:
        """Take the bytes the host sent; return the printer's replies to them."""
        self.buffer += chunk
        replies = bytearray()
        buffer = self.buffer
        # Walk whole commands only, so that bytes inside an image are never taken for one.
        while self.scanned < len(buffer) and (length := command_length(buffer, self.scanned)):
            command = bytes(buffer[self.scanned : self.scanned + 2])
            if command == b"\x10\x04":
                replies += self.printer._answer(buffer[self.scanned + 2])
            elif command == b"\x1dV":
                self.printer._finish(bytes(buffer[self.job_start : self.scanned + length]))
                self.job_start = self.scanned + length
            self.scanned += length
        return bytes(replies)

    def close(self) -> None:
        """The connection ended: what was sent after the last cut is a slip too."""
        self.printer._finish(bytes(self.buffer[self.job_start :]))


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:  # a client that resets the connection simply ends its job
        return b""
