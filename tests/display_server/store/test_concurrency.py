"""Numbering under concurrency: 8 processes issue 1,000 tickets; numbers and event sequence
numbers must be unique and gapless per service and site, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict

import pytest
from sqlalchemy import select

from display_server import office
from display_server.config import load_config
from display_server.core.tickets import Channel
from display_server.store.db import make_engine, make_sessionmaker
from display_server.store.models import EventRow, TicketRow
from tests.conftest import TUESDAY_10

PROCESSES = 8
PER_PROCESS = 125
SERVICES = ("moving", "certificates", "tax")


def issue_many(database_url: str, worker: int) -> int:
    """Issue PER_PROCESS tickets, retrying every tenth with the same Idempotency-Key."""
    config = load_config()
    sessions = make_sessionmaker(make_engine(database_url, pool_size=2), writer=True)
    issued = 0
    for n in range(PER_PROCESS):
        request = office.IssueRequest(service=SERVICES[n % len(SERVICES)], channel=Channel.KIOSK)
        key = f"w{worker}-{n}"
        for _attempt in range(2 if n % 10 == 0 else 1):
            with sessions() as session:
                outcome = office.issue_ticket(
                    session,
                    config=config,
                    site_id="nerima",
                    request=request,
                    now=TUESDAY_10,
                    idempotency_key=key,
                    issued_by=f"worker-{worker}",
                )
                session.commit()
            issued += int(outcome.created)
    return issued


@pytest.mark.slow
def test_eight_processes_issue_1000_tickets_without_duplicates_or_gaps(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        created = pool.starmap(issue_many, [(database_url, w) for w in range(PROCESSES)])
    assert sum(created) == PROCESSES * PER_PROCESS
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        numbers: dict[str, list[int]] = defaultdict(list)
        for service, number in session.execute(select(TicketRow.service, TicketRow.number)):
            numbers[service].append(number)
        seqs = sorted(session.scalars(select(EventRow.seq).where(EventRow.site == "nerima")))
    engine.dispose()
    assert sum(len(v) for v in numbers.values()) == PROCESSES * PER_PROCESS
    for service, issued in numbers.items():
        assert sorted(issued) == list(range(1, len(issued) + 1)), service
    assert seqs == list(range(1, PROCESSES * PER_PROCESS + 1))
