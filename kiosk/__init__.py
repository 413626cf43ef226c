"""The kiosk client: a touch page for the lobby kiosk and the local agent that prints slips.

`KioskAgent` issues tickets through the server and prints them, keeping slips that wait for the
printer in a `ReprintStore` on disk; `create_kiosk_app` serves the page and its tiny local API;
`madoguchi kiosk …` (kiosk/cli.py) wires them to a real printer and state directory.
"""

from kiosk.agent import Issued, KioskAgent, Retry
from kiosk.app import create_kiosk_app
from kiosk.errors import (
    IssueRefused,
    KioskError,
    RequestRejected,
    ServerUnavailable,
    StateFileError,
)
from kiosk.reprints import ReprintStore

__all__ = [
    "IssueRefused",
    "Issued",
    "KioskAgent",
    "KioskError",
    "ReprintStore",
    "RequestRejected",
    "Retry",
    "ServerUnavailable",
    "StateFileError",
    "create_kiosk_app",
]
