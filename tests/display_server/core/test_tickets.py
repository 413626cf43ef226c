"""The ticket lifecycle: each transition, its event, and the ones it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from display_server.core import tickets as lifecycle
from display_server.core.errors import InvalidTransition
from display_server.core.tickets import EventType, TicketStatus
from tests.display_server.core.factories import T0, ticket

NOW = T0 + dt.timedelta(minutes=30)


def test_call_start_complete_records_each_step() -> None:
    called, event = lifecycle.call(ticket(1), counter="c1", now=NOW, staff="tanaka")
    assert (called.status, called.counter, called.called_at) == (TicketStatus.CALLED, "c1", NOW)
    assert (event.type, event.counter, event.staff, event.ticket_id) == (
        EventType.CALLED,
        "c1",
        "tanaka",
        1,
    )
    serving, event = lifecycle.start(called, now=NOW, staff="tanaka")
    assert serving.status is TicketStatus.SERVING and event.type is EventType.STARTED
    done, event = lifecycle.complete(serving, now=NOW, staff="tanaka")
    assert done.status is TicketStatus.DONE and done.finished_at == NOW
    assert event.type is EventType.COMPLETED


def test_a_ticket_is_never_called_twice() -> None:
    called, _ = lifecycle.call(ticket(1), counter="c1", now=NOW, staff=None)
    with pytest.raises(InvalidTransition, match="it is called"):
        lifecycle.call(called, counter="c2", now=NOW, staff=None)


def test_route_moves_to_next_service_with_a_new_place() -> None:
    routed = ticket(1, route=("moving", "nhi", "child"))
    called, _ = lifecycle.call(routed, counter="c1", now=NOW, staff=None)
    moved, event = lifecycle.complete(called, now=NOW, staff=None)
    assert (moved.status, moved.service, moved.route_index) == (TicketStatus.WAITING, "nhi", 1)
    assert moved.queued_at == NOW and moved.counter is None
    assert event.type is EventType.ROUTED and event.service == "moving"
    assert event.data["next_service"] == "nhi"


def test_transfer_keeps_the_place_in_line() -> None:
    called, _ = lifecycle.call(ticket(3), counter="c1", now=NOW, staff=None)
    moved, event = lifecycle.transfer(called, service="tax", now=NOW, staff="sato")
    assert moved.status is TicketStatus.WAITING and moved.service == "tax"
    assert moved.queued_at == ticket(3).queued_at
    assert moved.route == ("tax",)
    assert event.type is EventType.TRANSFERRED and event.data["from_service"] == "moving"
    assert event.counter == "c1"
    with pytest.raises(InvalidTransition):
        lifecycle.transfer(moved, service="tax", now=NOW, staff=None)


def test_no_show_needs_the_configured_recalls() -> None:
    called, _ = lifecycle.call(ticket(1), counter="c1", now=NOW, staff=None)
    with pytest.raises(InvalidTransition, match="recalled 0 of 2"):
        lifecycle.no_show(called, now=NOW, staff=None, recalls_required=2)
    once, _ = lifecycle.recall(called, now=NOW, staff=None)
    twice, event = lifecycle.recall(once, now=NOW, staff=None)
    assert twice.recalls == 2 and event.data["recalls"] == 2
    missed, event = lifecycle.no_show(twice, now=NOW, staff=None, recalls_required=2)
    assert missed.status is TicketStatus.NO_SHOW and event.type is EventType.NO_SHOW


def test_requeue_within_the_rejoin_window_keeps_the_old_place() -> None:
    called, _ = lifecycle.call(ticket(5), counter="c1", now=NOW, staff=None)
    missed, _ = lifecycle.no_show(called, now=NOW, staff=None, recalls_required=0)
    back, event = lifecycle.requeue(
        missed, now=NOW + dt.timedelta(minutes=59), staff="floor", rejoin_minutes=60
    )
    assert back.status is TicketStatus.WAITING and back.queued_at == ticket(5).queued_at
    assert event.type is EventType.REQUEUED
    with pytest.raises(InvalidTransition, match="more than 60 minutes"):
        lifecycle.requeue(missed, now=NOW + dt.timedelta(minutes=61), staff=None, rejoin_minutes=60)


@pytest.mark.parametrize(
    "status",
    [TicketStatus.DONE, TicketStatus.CANCELLED, TicketStatus.EXPIRED, TicketStatus.NO_SHOW],
)
def test_finished_tickets_refuse_changes(status: TicketStatus) -> None:
    finished = ticket(1, status=status)
    for change in (
        lambda: lifecycle.call(finished, counter="c1", now=NOW, staff=None),
        lambda: lifecycle.cancel(finished, now=NOW, staff=None),
        lambda: lifecycle.expire(finished, now=NOW),
        lambda: lifecycle.transfer(finished, service="tax", now=NOW, staff=None),
    ):
        with pytest.raises(InvalidTransition):
            change()


def test_cancel_and_expire() -> None:
    gone, event = lifecycle.cancel(ticket(1), now=NOW, staff=None)
    assert gone.status is TicketStatus.CANCELLED and event.type is EventType.CANCELLED
    serving = ticket(2, status=TicketStatus.SERVING)
    expired, event = lifecycle.expire(serving, now=NOW)
    assert expired.status is TicketStatus.EXPIRED and event.type is EventType.EXPIRED


def test_prioritise_only_once() -> None:
    raised, event = lifecycle.prioritise(ticket(1), now=NOW, staff="floor")
    assert raised.priority and event.type is EventType.PRIORITISED
    with pytest.raises(InvalidTransition):
        lifecycle.prioritise(raised, now=NOW, staff=None)
