"""The per-process cache of each site's history and open tickets agrees with the database,
also when another process (here: a second app on the same database) made the changes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from display_server import office
from display_server.app import create_app
from display_server.settings import Settings
from tests.conftest import FakeClock
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
