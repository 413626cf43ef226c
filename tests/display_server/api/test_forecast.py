"""`GET /api/v1/sites/{site}/forecast` over a known weekday × hour pattern (SQLite and
PostgreSQL): the pattern's shape, nothing for closed hours, holidays marked, 4xx on bad input."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient

from display_server.api.forecast import _reception_window
from tests.conftest import JST, FakeClock
from tests.display_server.test_forecast_service import PATTERN, refit, seed_pattern
from tests.helpers import runtime_of

#: A Tuesday; the Monday after is 勤労感謝の日 (2026-11-23).
BEFORE_HOLIDAY = dt.datetime(2026, 11, 17, 10, 0, tzinfo=JST)


def test_forecast_has_the_pattern_and_marks_closed_days(
    client: TestClient, clock: FakeClock
) -> None:
    clock.set(BEFORE_HOLIDAY)
    runtime = runtime_of(client)
    seed_pattern(runtime)
    refit(runtime)
    response = client.get("/api/v1/sites/nerima/forecast", params={"start": "2026-11-20",
                                                                   "days": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["site"] == "nerima" and body["start"] == "2026-11-20" and body["days"] == 5
    assert body["simulated_history"] is False
    assert body["dates"] == [
        {"date": "2026-11-20", "open": True, "closed_reason": None},
        {"date": "2026-11-21", "open": False, "closed_reason": "weekly"},
        {"date": "2026-11-22", "open": False, "closed_reason": "weekly"},
        {"date": "2026-11-23", "open": False, "closed_reason": "holiday"},
        {"date": "2026-11-24", "open": True, "closed_reason": None},
    ]
    by_day_hour: dict[tuple[str, int], float] = defaultdict(float)
    for item in body["forecast"]:
        assert set(item) == {"service", "hour_start", "arrivals", "lo", "hi", "est_wait_min",
                             "level"}
        assert item["service"] == "moving" and item["lo"] <= item["arrivals"] <= item["hi"]
        at = dt.datetime.fromisoformat(item["hour_start"])
        assert at.utcoffset() == dt.timedelta(hours=9)
        by_day_hour[(at.date().isoformat(), at.hour)] += item["arrivals"]
    # Closed days and hours have no row at all: nothing is expected then.
    assert {day for day, _ in by_day_hour} == {"2026-11-20", "2026-11-24"}
    assert {hour for _, hour in by_day_hour} == set(range(8, 17))
    for day in ("2026-11-20", "2026-11-24"):
        assert by_day_hour[(day, 9)] == pytest.approx(PATTERN[9], abs=1.5)
        assert by_day_hour[(day, 9)] > by_day_hour[(day, 10)] > by_day_hour[(day, 14)]
        assert by_day_hour[(day, 12)] < 0.5


def test_forecast_defaults_to_a_week_from_today(client: TestClient) -> None:
    body = client.get("/api/v1/sites/nerima/forecast").json()
    assert body["start"] == "2026-12-01" and len(body["dates"]) == 7
    assert body["forecast"] == [] and body["fitted_at"] is None  # nothing fitted yet


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "20261201"}, "start"),
        ({"days": "0"}, "days"),
        ({"days": "29"}, "days"),
        ({"days": "a week"}, "days"),
    ],
)
def test_bad_start_or_days_is_422_naming_the_parameter(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/sites/nerima/forecast", params=query)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", field] and problem["msg"]


def test_unknown_site_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/sites/atlantis/forecast")
    assert response.status_code == 404
    assert "atlantis" in response.json()["detail"]


def test_the_calendar_marks_today_s_hours_that_are_over(
    client: TestClient, clock: FakeClock
) -> None:
    clock.set(BEFORE_HOLIDAY.replace(hour=10, minute=30))
    runtime = runtime_of(client)
    seed_pattern(runtime)
    refit(runtime)
    page = client.get("/sites/nerima").text
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">([^<]+)</th>(.*?)</tr>", page, re.S)
    levels = {label: re.findall(r'data-level="(\w+)"', cells) for label, cells in rows}
    # 08:00–08:59 and 09:00–09:59 are over; the hour in progress still shows its forecast.
    today, tomorrow = levels["11/17(火)"], levels["11/18(水)"]
    assert today[:2] == ["past", "past"] and "past" not in today[2:]
    assert len(today) == 9 and "past" not in tomorrow and len(tomorrow) == 9
    assert "終了した時間帯" in page  # the legend explains the symbol
    clock.set(BEFORE_HOLIDAY.replace(hour=8))
    assert "終了した時間帯" not in client.get("/sites/nerima").text


@pytest.mark.parametrize(
    ("hour", "window"),
    [(8, ("08:30", "09:00")), (10, ("10:00", "11:00")), (16, ("16:00", "16:45"))],
)
def test_a_recommended_hour_is_said_within_reception_hours(
    client: TestClient, hour: int, window: tuple[str, str]
) -> None:
    # Nerima takes tickets from 08:30 to the 16:45 cut-off: "8:00–8:59" would send people to
    # a closed door.
    site = runtime_of(client).config.site("nerima")
    assert site is not None
    at = dt.datetime(2026, 12, 1, hour, tzinfo=JST)
    assert _reception_window(site, at) == {"start": window[0], "end": window[1]}
