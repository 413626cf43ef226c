"""The kiosk client: a touch page for the lobby kiosk and the local agent that prints slips.

`KioskAgent` issues tickets through the server and prints them; `create_kiosk_app` serves the
page and its tiny local API; `madoguchi kiosk …` (kiosk/cli.py) wires both to a real printer.
"""

from kiosk.agent import Issued, KioskAgent, Retry
from kiosk.app import create_kiosk_app
from kiosk.errors import IssueRefused, KioskError, RequestRejected, ServerUnavailable

__all__ = [
    "IssueRefused",
    "Issued",
    "KioskAgent",
    "KioskError",
    "RequestRejected",
    "Retry",
    "ServerUnavailable",
    "create_kiosk_app",
]
