"""The statistics maths against numbers worked out by hand for one morning."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from display_server.core import stats
from display_server.core.stats import EventRecord

TOKYO = ZoneInfo("Asia/Tokyo")


def at(hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime(2026, 12, 1, hour, minute, tzinfo=TOKYO)


def ev(
    kind: str,
    hhmm: str,
    ticket: int | None = None,
    service: str | None = None,
    counter: str | None = None,
    route_len: int = 1,
    next_service: str | None = None,
) -> EventRecord:
    return EventRecord(
        site="s",
        type=kind,
        at=at(hhmm),
        ticket_id=ticket,
        service=service,
        counter=counter,
        route_len=route_len,
        next_service=next_service,
    )


#: T1, T2 plain; T3 missed its call and came back; T4 routed A → C; T5 moved B → A while
#: waiting, then cancelled at the counter. Counter c1 open 09:00–12:00, c2 09:00–11:00.
DAY = [
    ev("counter_opened", "09:00", counter="c1"),
    ev("counter_opened", "09:00", counter="c2"),
    ev("issued", "09:00", 1, "A"),
    ev("called", "09:05", 1, "A", "c1"),
    ev("started", "09:06", 1, "A", "c1"),
    ev("completed", "09:16", 1, "A", "c1"),
    ev("issued", "09:10", 2, "A"),
    ev("called", "09:16", 2, "A", "c1"),
    ev("started", "09:17", 2, "A", "c1"),
    ev("completed", "09:29", 2, "A", "c1"),
    ev("issued", "09:20", 3, "B"),
    ev("called", "09:30", 3, "B", "c2"),
    ev("recalled", "09:32", 3, "B", "c2"),
    ev("no_show", "09:35", 3, "B", "c2"),
    ev("requeued", "09:40", 3, "B"),
    ev("called", "09:50", 3, "B", "c2"),
    ev("started", "09:51", 3, "B", "c2"),
    ev("completed", "09:55", 3, "B", "c2"),
    ev("issued", "10:05", 4, "A", route_len=2),
    ev("called", "10:10", 4, "A", "c1"),
    ev("started", "10:10", 4, "A", "c1"),
    ev("routed", "10:20", 4, "A", "c1", next_service="C"),
    ev("issued", "10:30", 5, "B"),
    ev("transferred", "10:35", 5, "A"),
    ev("called", "10:45", 5, "A", "c1"),
    ev("cancelled", "10:46", 5, "A", "c1"),
    ev("called", "10:50", 4, "C", "c2"),
    ev("started", "10:51", 4, "C", "c2"),
    ev("counter_paused", "11:00", counter="c2"),
    ev("completed", "11:01", 4, "C", "c2"),
    ev("counter_closed", "12:00", counter="c1"),
]


def rows(key: stats.Key) -> dict[object, dict[str, object]]:
    return {k: c.row() for k, c in stats.cells(DAY, TOKYO, key).items()}


def test_percentile_interpolates_between_ranks() -> None:
    assert stats.percentile([5, 6, 5, 15], 50) == 5.5
    assert stats.percentile([5, 6, 5, 15], 90) == pytest.approx(12.3)
    assert stats.percentile([7], 90) == 7
    assert stats.percentile([], 50) is None


def test_visits_cut_a_ticket_at_requeue_and_routing() -> None:
    visits = stats.visits(DAY)
    waits = sorted((v.ticket_id, v.service, v.wait_min, v.outcome) for v in visits)
    assert waits == [
        (1, "A", 5, "completed"),
        (2, "A", 6, "completed"),
        (3, "B", 10, "completed"),
        (3, "B", 10, "no_show"),
        (4, "A", 5, "routed"),
        (4, "C", 30, "completed"),
        (5, "A", 15, "cancelled"),
    ]


def test_by_service() -> None:
    by_service = rows(lambda p: p.service)
    a, b, c = by_service["A"], by_service["B"], by_service["C"]
    assert (a["arrivals"], a["called"], a["no_shows"]) == (3, 4, 0)
    assert a["wait_mean"] == 7.75 and a["wait_median"] == 5.5
    assert a["wait_p90"] == pytest.approx(12.3)
    assert a["service_mean"] == pytest.approx(32 / 3) and a["service_median"] == 10
    assert (b["arrivals"], b["wait_mean"], b["no_show_rate"], b["service_mean"]) == (2, 10, 0.5, 4)
    assert (c["arrivals"], c["wait_mean"], c["service_mean"]) == (0, 30, 10)


def test_by_hour_of_issue() -> None:
    by_hour = rows(lambda p: p.hour)
    assert set(by_hour) == {9, 10}
    nine, ten = by_hour[9], by_hour[10]
    assert (nine["arrivals"], nine["wait_mean"], nine["wait_median"], nine["wait_p90"]) == (
        3,
        7.75,
        8,
        10,
    )
    assert nine["no_show_rate"] == 0.25
    assert ten["arrivals"] == 2
    assert ten["wait_mean"] == pytest.approx(50 / 3)
    assert (ten["wait_median"], ten["wait_p90"]) == (15, pytest.approx(27))


def test_whole_day_and_filtering_by_key() -> None:
    total = rows(lambda p: p.date)[dt.date(2026, 12, 1)]
    assert (total["wait_n"], total["wait_median"]) == (7, 10)
    assert total["wait_mean"] == pytest.approx(81 / 7)
    assert total["wait_p90"] == pytest.approx(21)
    only_b = rows(lambda p: p.service if p.service == "B" else None)
    assert list(only_b) == ["B"]


def test_journeys_of_routed_tickets() -> None:
    assert stats.journeys(DAY) == [56]


def test_counter_utilisation() -> None:
    use = stats.utilisation(DAY, end=at("17:00"))
    assert use["c1"] == (180, pytest.approx(35 / 180))
    assert use["c2"] == (120, pytest.approx(21 / 120))


def test_a_counter_still_open_counts_until_the_end() -> None:
    open_all_day = [ev("counter_opened", "09:00", counter="c1")]
    assert stats.utilisation(open_all_day, end=at("10:30")) == {"c1": (90, 0.0)}


def test_summary_of_nothing() -> None:
    assert stats.summarise([]) == stats.Summary(0, None, None, None)
