"""The per-process cache of each site's history and open tickets agrees with the database,
also when another process (here: a second app on the same database) made the changes."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from display_server import office
from display_server.app import create_app
from display_server.core.estimate_model import LES_HALF_LIFE_MINUTES, Band
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


def test_a_wait_after_a_transfer_from_a_counter_starts_at_the_transfer(
    client: TestClient, clock: FakeClock
) -> None:
    # Called after 30 minutes, 20 at counter 1, then sent to tax, called there 5 minutes later:
    # tax's line kept the visitor 5 minutes, not 55.
    staff = make_token(client, "staff", "nerima")
    issue(client, staff, service="moving")
    clock.advance(minutes=30)
    for counter in ("nerima-1", "nerima-3"):
        counter_action(client, staff, counter, "open")
    assert counter_action(client, staff, "nerima-1", "call-next").status_code == 200
    clock.advance(minutes=20)
    moved = counter_action(client, staff, "nerima-1", "transfer", service="tax")
    assert moved.status_code == 200
    clock.advance(minutes=5)
    assert counter_action(client, staff, "nerima-3", "call-next").status_code == 200
    runtime = runtime_of(client)
    site = runtime.config.site("nerima")
    assert site is not None
    now = runtime.now()
    with runtime.sessions() as session:
        history = runtime.queue_state(session, site, now).history
    assert history is not None
    # moving's wait was realised 25 minutes ago and has faded since.
    assert history.recent_wait("moving", now) == pytest.approx(
        30.0 * 0.5 ** (25 / LES_HALF_LIFE_MINUTES)
    )
    assert history.recent_wait("tax", now) == pytest.approx(5.0)
