"""The kiosk's one exception hierarchy (printer faults stay `printers.PrinterError`)."""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk agent raises."""


class ServerUnavailable(KioskError):
    """The server did not answer (network error or 5xx) within the bounded retries."""


class IssueRefused(KioskError):
    """The server refused to issue now (409): closed, after the cut-off, daily cap …"""

    def __init__(self, reason: str, detail: str, next_opening: str | None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.next_opening = next_opening


class RequestRejected(KioskError):
    """The server rejected the request itself (401/403/404/422 …): a setup problem."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


class StateFileError(KioskError):
    """The kiosk's state directory or reprint file cannot be used: a setup problem to fix."""


class CorruptStateFile(StateFileError):
    """The reprint file is not one the kiosk can read; the store sets it aside and starts empty."""
