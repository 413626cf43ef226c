"""The base of every printer connection: a link for one job, and one job at a time."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from printers.errors import PrinterTimeout

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class Link(ABC):
    """An open channel to a printer for the duration of one job."""

    @abstractmethod
    def send(self, data: bytes) -> None: ...

    @abstractmethod
    def receive(self, timeout: float) -> bytes:
        """Whatever bytes arrive within `timeout` seconds (b"" if none)."""

    def drain(self) -> None:
        """Drop bytes nobody asked for (some printers answer DLE EOT look-alikes in images)."""
        while self.receive(0.0):
            pass


@dataclass
class PrinterConnection(ABC):
    """A printer address; `job()` opens it, exclusively within this process."""

    uri: str
    status_timeout: float = 1.0
    busy_timeout: float = 30.0

    @property
    def key(self) -> str:
        """Identifies the physical printer, so that two connections to it share one lock."""
        return self.uri.split("?")[0]

    @abstractmethod
    def _open(self) -> Link: ...

    def _close(self, link: Link) -> None:  # noqa: B027 - most links need no explicit close
        pass

    @contextmanager
    def job(self) -> Iterator[Link]:
        with _locks_guard:
            lock = _locks.setdefault(self.key, threading.Lock())
        if not lock.acquire(timeout=self.busy_timeout):
            raise PrinterTimeout(
                f"{self.uri}: still busy with another job after {self.busy_timeout} s"
            )
        try:
            link = self._open()
            try:
                yield link
            finally:
                self._close(link)
        finally:
            lock.release()
