"""The pure domain: tickets, rules, counters and wait estimates; `now` is always passed in."""

from display_server.core.counters import CounterState, CounterStatus
from display_server.core.errors import (
    DomainError,
    InvalidTransition,
    IssueRefused,
    NotFound,
    NothingWaiting,
)
from display_server.core.estimate import CounterView, QueueState, WaitEstimate
from display_server.core.tickets import Channel, Event, EventType, Ticket, TicketStatus

__all__ = [
    "Channel",
    "CounterState",
    "CounterStatus",
    "CounterView",
    "DomainError",
    "Event",
    "EventType",
    "InvalidTransition",
    "IssueRefused",
    "NotFound",
    "NothingWaiting",
    "QueueState",
    "Ticket",
    "TicketStatus",
    "WaitEstimate",
]
