"""A day at the counters: the calling rule, idle counters, services nobody serves."""

from __future__ import annotations

from display_server.core.serving import Served, serve_day
from tests.display_server.core.factories import counter


def test_one_counter_serves_in_order_of_arrival() -> None:
    turns = serve_day({"a": [0.0, 1.0, 30.0]}, [counter(("a",))], lambda service: 10.0)
    assert turns == {"a": [Served(0, 0.0, 10.0), Served(0, 10.0, 20.0), Served(0, 30.0, 40.0)]}


def test_the_counter_free_first_calls_and_each_policy_picks_its_service() -> None:
    # Both counters are busy until 10 with the first two tickets; "b" has waited longer than
    # the second "a" when they are free again.
    arrivals = {"a": [0.0, 5.0], "b": [0.0, 2.0]}
    minutes = {"a": 10.0, "b": 12.0}
    longest = serve_day(arrivals, [counter(("a", "b")), counter(("a", "b"))], minutes.__getitem__)
    # Counter 0 is free at 10 (it took "a" at 0) and calls the longest waiting, "b" from 2.
    assert longest["b"][1] == Served(0, 10.0, 22.0)
    assert longest["a"][1] == Served(1, 12.0, 22.0)
    strict = serve_day(
        arrivals,
        [counter(("a", "b"), "strict_order"), counter(("a", "b"), "strict_order")],
        minutes.__getitem__,
    )
    assert strict["a"][1] == Served(0, 10.0, 20.0)  # its first service, though "b" waited longer
    assert strict["b"][1] == Served(1, 12.0, 24.0)


def test_an_idle_counter_takes_the_next_ticket_of_its_profile_to_arrive() -> None:
    turns = serve_day({"a": [50.0], "b": [20.0]}, [counter(("b", "a"))], lambda service: 5.0)
    assert turns == {"a": [Served(0, 50.0, 55.0)], "b": [Served(0, 20.0, 25.0)]}


def test_counters_open_at_the_opening_and_nobody_serves_an_orphan_service() -> None:
    turns = serve_day(
        {"a": [0.0, 1.0], "orphan": [2.0]}, [counter(("a",))], lambda service: 3.0, opens=10.0
    )
    assert turns == {"a": [Served(0, 10.0, 13.0), Served(0, 13.0, 16.0)], "orphan": [None]}
    assert serve_day({"a": []}, [counter(("a",))], lambda service: 3.0) == {"a": []}


def test_a_counter_calls_only_in_its_shifts_and_finishes_the_ticket_in_hand() -> None:
    # Counter 0 works all day; counter 1 until 12 and again from 20 (a lunch rotation).
    counters = [counter(("a",)), counter(("a",))]
    shifts = [[(0.0, 100.0)], [(0.0, 12.0), (20.0, 40.0)]]
    arrivals = {"a": [0.0, 0.0, 11.0, 13.0, 15.0, 21.0]}
    turns = serve_day(arrivals, counters, lambda service: 10.0, shifts=shifts)
    assert turns["a"] == [
        Served(0, 0.0, 10.0),
        Served(1, 0.0, 10.0),
        Served(0, 11.0, 21.0),
        Served(1, 20.0, 30.0),  # counter 1 is at lunch from 12: the visitor of 13 waits for it
        Served(0, 21.0, 31.0),
        Served(1, 30.0, 40.0),
    ]
    always = serve_day(arrivals, counters, lambda service: 10.0)
    assert always["a"][3] == Served(1, 13.0, 23.0)
    # Called at 11, before its shift ends at 12: served to the end, past 12.
    in_hand = serve_day({"a": [0.0, 0.0, 5.0, 11.0]}, counters, lambda s: 10.0, shifts=shifts)
    assert in_hand["a"][3] == Served(1, 11.0, 21.0)
    # A counter with no shift left calls nobody; one with no shifts at all never opens.
    late = serve_day({"a": [50.0]}, counters, lambda service: 5.0, shifts=[[(0.0, 40.0)], []])
    assert late == {"a": [None]}
