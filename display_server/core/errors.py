"""Errors of the pure domain; the API maps each to an HTTP status."""

from __future__ import annotations

import datetime as dt

from display_server.errors import MadoguchiError


class DomainError(MadoguchiError):
    """A request the domain rules refuse."""


class NotFound(DomainError):
    """An unknown site, service, counter or ticket."""


class InvalidTransition(DomainError):
    """The ticket or counter is not in a state that allows the action."""


class NothingWaiting(DomainError):
    """Call-next found no waiting ticket for the counter's services."""


class IssueRefused(DomainError):
    """No ticket can be issued now: closed, past the reception cut-off, or the daily cap."""

    def __init__(self, reason: str, message: str, next_open: dt.datetime | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.next_open = next_open
