"""The per-process cache of each site's history and open tickets agrees with the database,
also when another process (here: a second app on the same database) made the changes."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from display_server import office
from display_server.app import create_app
from display_server.core.estimate_model import LES_HALF_LIFE_MINUTES, Band, QueueHistory
from display_server.core.tickets import Event, EventType
from display_server.history import SiteHistories
from display_server.settings import Settings
from display_server.store import events as event_store
from tests.conftest import TUESDAY_10, FakeClock
from tests.display_server.store.factories import issue as issue_in_store
from tests.helpers import counter_action, issue, make_token, runtime_of


def cached_and_direct(client: TestClient) -> tuple[list[tuple[int, str, str]], ...]:
    runtime = runtime_of(client)
    site = runtime.config.site("nerima")
    assert site is not None
    now = runtime.now()
    with runtime.sessions() as session:
        cached = runtime.queue_state(session, site, now)
        direct = office.queue_state(session, config=runtime.config, site=site, now=now)

    def key(state: office.QueueState) -> list[tuple[int | str, str, str]]:
        waiting = sorted((t.id, t.service, t.status.value) for t in state.waiting)
        counters = [
            (c.config.id, c.status.value, c.current.display_number if c.current else "")
            for c in state.counters
        ]
        return [*waiting, *counters]

    return key(cached), key(direct)


def nerima_history(client: TestClient) -> tuple[QueueHistory, dt.datetime]:
    """Nerima's estimator history as the server's cache holds it now, and now."""
    runtime = runtime_of(client)
    site = runtime.config.site("nerima")
    assert site is not None
    now = runtime.now()
    with runtime.sessions() as session:
        history = runtime.queue_state(session, site, now).history
    assert history is not None
    return history, now


def test_cache_follows_changes_made_by_another_process(
    client: TestClient, settings: Settings, clock: FakeClock
) -> None:
    staff = make_token(client, "staff", "nerima")
    cached, direct = cached_and_direct(client)  # warm the cache while the queue is empty
    assert cached == direct
    assert ("nerima-1", "closed", "") in cached
    with TestClient(create_app(settings, clock=clock)) as other:
        tickets = [issue(other, staff, service=s) for s in ("moving", "nhi", "tax", "moving")]
        counter_action(other, staff, "nerima-1", "open")
        counter_action(other, staff, "nerima-1", "call-next")
        other.delete(f"/api/v1/tickets/{tickets[2]['token']}")
        other.post("/api/v1/counters/nerima-1/transfer", json={"service": "tax"}, headers=staff)
    cached, direct = cached_and_direct(client)
    assert cached == direct
    waiting = [entry for entry in cached if isinstance(entry[0], int)]
    assert {service for _, service, _ in waiting} == {"nhi", "moving", "tax"}
    assert len(waiting) == 3
    assert ("nerima-1", "open", "") in cached  # opened by the other process (its event)


def test_a_cold_history_calibrates_on_the_weeks_before_its_start(client: TestClient) -> None:
    # 40 tickets five weeks before now, scored 1.5 minutes at issue and called 12 minutes
    # later: a restart that read two weeks of events showed the model's range instead.
    runtime = runtime_of(client)
    with runtime.writer_sessions() as session:
        for _ in range(40):
            issued = issue_in_store(session)
            assert issued is not None
            ticket = issued[0]
            called = Event(EventType.CALLED, "nerima", TUESDAY_10 + dt.timedelta(minutes=12),
                           ticket_id=ticket.id, counter="nerima-1", service=ticket.service)
            event_store.append_event(session, event=called)
        session.commit()
    model = Band(low=40.0, median=55.0, mean=60.0, high=90.0)
    with runtime.sessions() as session:
        view = SiteHistories().get(session, site="nerima", now=TUESDAY_10 + dt.timedelta(weeks=5))
    assert view.history.calibrated("moving", False, 1.5, model) == Band(12.0, 12.0, 12.0, 12.0)


def test_a_transferred_ticket_s_wait_teaches_the_new_line_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    # A transferred ticket keeps its place in the new line: called there 5 minutes after the
    # transfer and 55 after its issue, it waited neither as a newcomer to tax would. Tax's
    # last realised wait stays the 12 minutes of its own visitor.
    staff = make_token(client, "staff", "nerima")
    issue(client, staff, service="moving")
    clock.advance(minutes=18)
    issue(client, staff, service="tax")
    clock.advance(minutes=12)
    for counter in ("nerima-1", "nerima-3"):
        counter_action(client, staff, counter, "open")
    for counter in ("nerima-1", "nerima-3"):
        assert counter_action(client, staff, counter, "call-next").status_code == 200
    assert counter_action(client, staff, "nerima-3", "complete").status_code == 200
    clock.advance(minutes=20)
    moved = counter_action(client, staff, "nerima-1", "transfer", service="tax")
    assert moved.status_code == 200
    clock.advance(minutes=5)
    called = counter_action(client, staff, "nerima-3", "call-next")
    assert called.status_code == 200 and called.json()["ticket"]["service"] == "tax"
    history, now = nerima_history(client)
    # Both waits were realised 25 minutes ago and have faded since.
    fade = 0.5 ** (25 / LES_HALF_LIFE_MINUTES)
    assert history.recent_wait("moving", now) == pytest.approx(30.0 * fade)
    assert history.recent_wait("tax", now) == pytest.approx(12.0 * fade)


def test_a_prioritised_ticket_s_wait_teaches_neither_class(
    client: TestClient, clock: FakeClock
) -> None:
    # Ten minutes as an ordinary ticket, then two as a priority one: neither class's wait.
    staff, floor = make_token(client, "staff", "nerima"), make_token(client, "floor", "nerima")
    ticket = issue(client, staff, service="tax")
    clock.advance(minutes=10)
    url = f"/api/v1/tickets/by-id/{ticket['id']}/prioritise"
    assert client.post(url, headers=floor).status_code == 200
    clock.advance(minutes=2)
    counter_action(client, staff, "nerima-3", "open")
    assert counter_action(client, staff, "nerima-3", "call-next").status_code == 200
    history, now = nerima_history(client)
    assert history.recent_wait("tax", now) == history.recent_wait("tax", now, priority=True) == 0


def test_a_re_queued_visitor_s_counter_time_is_learned(
    client: TestClient, clock: FakeClock
) -> None:
    # Missed the call, came back, was served in 40 minutes: that is moving's only service time.
    staff, floor = make_token(client, "staff", "nerima"), make_token(client, "floor", "nerima")
    ticket = issue(client, staff, service="moving")
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    for action in ("recall", "recall", "no-show"):
        assert counter_action(client, staff, "nerima-1", action).status_code == 200
    clock.advance(minutes=10)
    back = client.post(f"/api/v1/tickets/by-id/{ticket['id']}/requeue", headers=floor)
    assert back.status_code == 200
    assert counter_action(client, staff, "nerima-1", "call-next").status_code == 200
    clock.advance(minutes=40)
    assert counter_action(client, staff, "nerima-1", "complete").status_code == 200
    history, now = nerima_history(client)
    untaught = QueueHistory().profile("moving", 15.0, now).mean
    assert untaught == pytest.approx(15.0)
    assert history.profile("moving", 15.0, now).mean > untaught + 5


def test_a_no_show_leaves_its_line_once_and_unserved(client: TestClient, clock: FakeClock) -> None:
    # One visitor served, one who never answered the call: two exits, one unserved, plus the
    # estimator's one served pseudo-exit, 1 / 3 (the no-show also counted as served at its
    # call made it 1 / 4).
    staff = make_token(client, "staff", "nerima")
    for _ in range(2):
        issue(client, staff, service="moving")
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    assert counter_action(client, staff, "nerima-1", "complete").status_code == 200
    counter_action(client, staff, "nerima-1", "call-next")
    for action in ("recall", "recall", "no-show"):
        assert counter_action(client, staff, "nerima-1", action).status_code == 200
    history, now = nerima_history(client)
    assert history.profile("moving", 15.0, now).leave_share == pytest.approx(1 / 3)


def test_a_re_queued_priority_ticket_stays_a_priority_one_on_its_route(
    client: TestClient, clock: FakeClock
) -> None:
    # Missed the call, came back, served, routed on to nhi and called there 7 minutes later:
    # a priority ticket's wait, which must not stand for the ordinary tickets'.
    staff, floor = make_token(client, "staff", "nerima"), make_token(client, "floor", "nerima")
    ticket = issue(client, staff, service="moving", route=["moving", "nhi"], priority=True)
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    for action in ("recall", "recall", "no-show"):
        assert counter_action(client, staff, "nerima-1", action).status_code == 200
    back = client.post(f"/api/v1/tickets/by-id/{ticket['id']}/requeue", headers=floor)
    assert back.status_code == 200
    counter_action(client, staff, "nerima-1", "call-next")
    assert counter_action(client, staff, "nerima-1", "complete").status_code == 200
    clock.advance(minutes=7)
    called = counter_action(client, staff, "nerima-1", "call-next")
    assert called.status_code == 200 and called.json()["ticket"]["service"] == "nhi"
    history, now = nerima_history(client)
    assert history.recent_wait("nhi", now, priority=True) == pytest.approx(7.0)
    assert history.recent_wait("nhi", now) == 0
