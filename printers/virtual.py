"""A virtual ESC/POS network printer: answers DLE EOT, decodes each slip and saves it as a PNG.

For development without hardware (`madoguchi printer virtual`) and for the tests of the network
path. Each connection is read as a stream of commands; a cut ends a slip.
"""

from __future__ import annotations

import socket
import socketserver
import threading
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
    """A threaded TCP server; use as a context manager, read `port` for an ephemeral port."""

    out_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    state: str = "ok"
    dots: int = 576
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

    def start(self) -> VirtualPrinter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
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

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

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
        return f"tcp://{self.host}:{self.port}"

    def _serve(self, sock: socket.socket) -> None:
        buffer = bytearray()
        scanned = job_start = 0
        while chunk := _recv(sock):
            buffer += chunk
            # Walk whole commands only, so that bytes inside an image are never taken for one.
            while scanned < len(buffer) and (length := command_length(buffer, scanned)):
                command = bytes(buffer[scanned : scanned + 2])
                if command == b"\x10\x04":
                    self._answer(sock, buffer[scanned + 2])
                elif command == b"\x1dV":
                    self._finish(bytes(buffer[job_start : scanned + length]))
                    job_start = scanned + length
                scanned += length
        self._finish(bytes(buffer[job_start:]))

    def _answer(self, sock: socket.socket, n: int) -> None:
        with self._lock:
            self.status_queries += 1
        reply = REPLIES.get(self.state, {}).get(n)
        if reply is not None:
            sock.sendall(bytes((reply,)))

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


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:  # a client that resets the connection simply ends its job
        return b""
