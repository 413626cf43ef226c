"""Office rules: business day, issue refusals, numbering and the call-next policy."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display_server.config import WardConfig
from display_server.core import rules
from display_server.core import tickets as lifecycle
from display_server.core.errors import IssueRefused
from display_server.core.tickets import Ticket, TicketStatus
from tests.display_server.core.factories import JST, counter, ticket


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


def test_business_day_rolls_over_at_tokyo_midnight(example_config: WardConfig) -> None:
    before = dt.datetime(2026, 12, 1, 14, 59, tzinfo=dt.UTC)  # 23:59 JST
    after = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)  # 00:00 JST next day
    assert rules.business_date(example_config, before) == dt.date(2026, 12, 1)
    assert rules.business_date(example_config, after) == dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (at(1, 8, 0), "closed"),  # before opening on a Tuesday
        (at(1, 16, 45), "after_cutoff"),  # reception cut-off
        (at(5, 10, 0), "closed"),  # Saturday
        (at(29, 10, 0), "closed"),  # 年末年始 (a Tuesday)
        (at(11, 10, 0, month=2, year=2027), "closed"),  # 建国記念の日
    ],
)
def test_issue_refused_with_reason_and_next_opening(
    example_config: WardConfig, when: dt.datetime, reason: str
) -> None:
    site = example_config.sites[0]
    with pytest.raises(IssueRefused) as refused:
        rules.check_can_issue(example_config, site, site.services[0], now=when, issued_today=0)
    assert refused.value.reason == reason
    assert refused.value.next_open is not None and refused.value.next_open > when
    assert refused.value.next_open.astimezone(JST).time() == dt.time(8, 30)


def test_next_opening_skips_the_new_year_holidays(example_config: WardConfig) -> None:
    site = example_config.sites[0]
    opening = rules.next_opening(example_config, site, at(28, 18, 0))
    assert opening == dt.datetime(2027, 1, 4, 8, 30, tzinfo=JST)


def test_daily_cap_refuses_the_ticket_after_the_last(example_config: WardConfig) -> None:
    site = example_config.sites[0]
    service = site.service("mynumber")
    assert service is not None and service.daily_cap == 120
    rules.check_can_issue(example_config, site, service, now=at(1, 10), issued_today=119)
    with pytest.raises(IssueRefused) as refused:
        rules.check_can_issue(example_config, site, service, now=at(1, 10), issued_today=120)
    assert refused.value.reason == "daily_cap"


def test_after_closing_the_line_is_served_before_counters_close(
    example_config: WardConfig,
) -> None:
    # Nerima: 1 moving/nhi/child, 2 moving/certificates, 3 certificates/seal/tax,
    # 4 mynumber, 5 nhi/child/moving.
    site = example_config.site("nerima")
    assert site is not None
    moving, tax = ticket(1, "moving"), ticket(2, "tax")
    in_hand = dataclasses.replace(ticket(3, "mynumber"), status=TicketStatus.SERVING,
                                  counter="nerima-4")
    working = ["nerima-1", "nerima-2", "nerima-4"]
    closed, expired = rules.wind_down(site, working, [moving, tax, in_hand])
    # 1 and 2 can still call the moving visitor, 4 is serving: none closes. Nobody working
    # serves tax any more: that ticket cannot be served today.
    assert closed == [] and expired == [tax]
    # The line done, the counters close one by one as they have nobody left.
    closed, expired = rules.wind_down(site, working, [in_hand])
    assert closed == ["nerima-1", "nerima-2"] and expired == []
    closed, expired = rules.wind_down(site, ["nerima-4"], [])
    assert closed == ["nerima-4"] and expired == []
    # A ticket held by a counter that is no longer working is not served either.
    assert rules.wind_down(site, [], [in_hand]) == ([], [in_hand])


def test_display_number_pads_to_the_range(example_config: WardConfig) -> None:
    service = example_config.sites[0].services[0]
    assert rules.display_number(service, 7) == "A007"
    bare = service.model_copy(update={"prefix": ""})
    assert rules.display_number(bare, 7) == "7"


def test_longest_wait_takes_priority_first_then_the_oldest_across_services() -> None:
    desk = counter(("moving", "tax"))
    waiting = [
        ticket(1, "moving"),
        ticket(2, "tax", minutes=0.5),
        ticket(3, "moving", priority=True),
        ticket(4, "seal", minutes=0),
    ]
    assert rules.choose_next(desk, waiting) == waiting[2]
    assert rules.choose_next(desk, waiting[:2]) == waiting[1]


def test_strict_order_empties_the_first_service_first() -> None:
    desk = counter(("moving", "tax"), policy="strict_order")
    waiting = [ticket(1, "tax", minutes=0), ticket(2, "moving", minutes=10)]
    assert rules.choose_next(desk, waiting) == waiting[1]
    assert rules.choose_next(desk, waiting[:1]) == waiting[0]
    assert rules.choose_next(desk, [ticket(5, "seal")]) is None


def test_the_rule_takes_any_place_in_line_and_only_the_profile_s_services() -> None:
    """The estimator and the demo's history pass other keys (sorted jobs, arrival times)."""
    heads = {"tax": at(1, 9, 5), "moving": at(1, 9, 30), "seal": at(1, 9, 0)}
    assert rules.service_to_call(counter(("moving", "tax")), heads) == "tax"
    assert rules.service_to_call(counter(("moving", "tax"), "strict_order"), heads) == "moving"
    assert rules.service_to_call(counter(("nhi",)), heads) is None


waiting_lines = st.lists(
    st.tuples(st.booleans(), st.integers(0, 600), st.sampled_from(["moving", "tax"])),
    min_size=1,
    max_size=40,
)


@given(waiting_lines)
def test_calling_everything_respects_priority_then_issue_order(
    specs: list[tuple[bool, int, str]],
) -> None:
    """Whatever arrives, a counter calls each ticket once, priority class by class in order."""
    pending: list[Ticket] = [
        ticket(i + 1, service, minutes=minute, priority=priority)
        for i, (priority, minute, service) in enumerate(specs)
    ]
    desk = counter(("moving", "tax"))
    now = at(1, 20)
    order: list[Ticket] = []
    while (chosen := rules.choose_next(desk, pending)) is not None:
        called, _ = lifecycle.call(chosen, counter="c1", now=now, staff=None)
        pending = [called if t.id == called.id else t for t in pending]
        order.append(chosen)
    assert sorted(t.id for t in order) == [t.id for t in sorted(order, key=lambda t: t.id)]
    assert len({t.id for t in order}) == len(specs)  # every ticket called exactly once
    assert all(t.status is TicketStatus.CALLED for t in pending)
    keys = [(not t.priority, t.queued_at, t.id) for t in order]
    assert keys == sorted(keys)


@given(st.lists(st.integers(0, 120), min_size=2, max_size=30), st.data())
def test_transfer_keeps_the_place_against_later_arrivals(
    minutes: list[int], data: st.DataObject
) -> None:
    """A transferred ticket is called before everyone who queued after it in the new service."""
    line = [ticket(i + 1, "tax", minutes=m) for i, m in enumerate(minutes)]
    moved_source = ticket(999, "moving", minutes=data.draw(st.integers(0, 120)))
    moved, _ = lifecycle.transfer(moved_source, service="tax", now=at(1, 20), staff=None)
    desk = counter(("tax",))
    ahead = sum(1 for t in line if (t.queued_at, t.id) < (moved.queued_at, moved.id))
    pending = [*line, moved]
    position = 0
    while (chosen := rules.choose_next(desk, pending)) is not moved:
        assert chosen is not None
        pending = [t for t in pending if t.id != chosen.id]
        position += 1
    assert position == ahead


@given(st.integers(0, 998))
def test_numbers_follow_the_issued_count_without_repeats(issued: int) -> None:
    from display_server.config import load_config

    service = load_config().sites[0].services[0]
    numbers = {rules.number_for(service, n) for n in range(issued + 1)}
    assert len(numbers) == issued + 1
    assert min(numbers) == service.number_start
