"""Statistics through the API and CSV for one hand-worked morning, and who may see them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from display_server import charts
from tests.conftest import JST, FakeClock
from tests.helpers import counter_action, issue, make_token

DAY = "2026-12-01"


#: Counter 3 at nerima: B001 waits 4 and takes 6 min; B002 waits 9 and is a no-show;
#: B003 (issued at 10:00) waits 30 and takes 3 min; the counter is open 09:00–10:40.
MORNING = [
    ("09:00", "open"),
    ("09:00", "issue"),
    ("09:02", "issue"),
    ("09:04", "call-next"),
    ("09:05", "start"),
    ("09:11", "complete"),
    ("09:11", "call-next"),
    ("09:12", "recall"),
    ("09:13", "recall"),
    ("09:14", "no-show"),
    ("10:00", "issue"),
    ("10:30", "call-next"),
    ("10:30", "start"),
    ("10:33", "complete"),
    ("10:40", "close"),
    ("12:00", None),
]


def morning(client: TestClient, clock: FakeClock) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    for hhmm, action in MORNING:
        hour, minute = map(int, hhmm.split(":"))
        clock.set(dt.datetime(2026, 12, 1, hour, minute, tzinfo=JST))
        if action == "issue":
            issue(client, kiosk, service="certificates")
        elif action is not None:
            assert counter_action(client, staff, "nerima-3", action).status_code == 200


def test_report_matches_the_hand_worked_numbers(client: TestClient, clock: FakeClock) -> None:
    morning(client, clock)
    admin = make_token(client, "admin")
    report = client.get(
        "/api/v1/stats", params={"start": DAY, "end": DAY, "site": "nerima"}, headers=admin
    ).json()
    total = report["total"]
    assert (total["arrivals"], total["called"], total["no_shows"]) == (3, 3, 1)
    assert total["no_show_rate"] == pytest.approx(1 / 3)
    assert total["wait_mean"] == pytest.approx(43 / 3)
    assert (total["wait_median"], total["wait_p90"]) == (9, pytest.approx(25.8))
    assert (total["service_mean"], total["service_median"]) == (4.5, 4.5)
    hours = {row["hour"]: row for row in report["by_hour"]}
    assert (hours[9]["arrivals"], hours[9]["wait_mean"]) == (2, 6.5)
    assert (hours[10]["arrivals"], hours[10]["wait_mean"]) == (1, 30)
    assert report["counters"] == [
        {"counter": "nerima-3", "open_min": 100, "utilisation": pytest.approx(0.13)}
    ]
    assert report["by_service"][0]["service"] == "certificates"
    assert report["journeys"]["n"] == 0


def test_csv_has_one_row_per_day_hour_site_and_service(
    client: TestClient, clock: FakeClock
) -> None:
    morning(client, clock)
    response = client.get(
        "/api/v1/stats.csv",
        params={"start": DAY, "end": DAY},
        headers=make_token(client, "floor", "nerima"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["date"], r["hour"], r["service"], r["arrivals"], r["wait_mean"]) for r in rows] == [
        (DAY, "9", "certificates", "2", "6.5"),
        (DAY, "10", "certificates", "1", "30.0"),
    ]


def test_service_filter_and_empty_periods(client: TestClient, clock: FakeClock) -> None:
    morning(client, clock)
    admin = make_token(client, "admin")
    seal = client.get(
        "/api/v1/stats", params={"start": DAY, "end": DAY, "service": "seal"}, headers=admin
    ).json()
    assert seal["total"]["arrivals"] == 0 and seal["by_hour"] == []
    earlier = client.get(
        "/api/v1/stats", params={"start": "2026-11-01", "end": "2026-11-30"}, headers=admin
    ).json()
    assert earlier["total"]["wait_n"] == 0 and earlier["total"]["wait_mean"] is None


@pytest.mark.parametrize(
    ("role", "site", "params", "status"),
    [
        (None, None, {}, 401),
        ("staff", "nerima", {}, 403),
        ("kiosk", "nerima", {}, 403),
        ("floor", "nerima", {"site": "oizumi"}, 403),
        ("floor", "nerima", {"site": "nerima"}, 200),
        ("admin", None, {"site": "oizumi"}, 200),
    ],
)
def test_who_may_see_statistics(
    client: TestClient, role: str | None, site: str | None, params: dict[str, str], status: int
) -> None:
    headers = make_token(client, role, site) if role else {}
    assert client.get("/api/v1/stats", params=params, headers=headers).status_code == status
    assert client.get("/api/v1/stats.csv", params=params, headers=headers).status_code == status


def test_a_floor_manager_sees_only_their_site(client: TestClient, clock: FakeClock) -> None:
    morning(client, clock)
    issue(client, make_token(client, "kiosk", "oizumi"), site="oizumi")
    floor = client.get("/api/v1/stats", headers=make_token(client, "floor", "oizumi")).json()
    assert floor["sites"] == ["oizumi"] and floor["total"]["arrivals"] == 1
    admin = client.get("/api/v1/stats", headers=make_token(client, "admin")).json()
    assert admin["total"]["arrivals"] == 4 and len(admin["sites"]) > 2


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"start": "2026-02-30"}, 422),
        ({"start": "yesterday"}, 422),
        ({"start": "2026-12-02", "end": "2026-12-01"}, 400),
        ({"start": "2024-01-01", "end": "2026-12-01"}, 400),
        ({"end": "9999-12-31"}, 400),
        ({"site": "atlantis"}, 404),
        ({"service": "nope"}, 400),
        ({"site": "x" * 41}, 422),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, params: dict[str, str], status: int) -> None:
    response = client.get("/api/v1/stats", params=params, headers=make_token(client, "admin"))
    assert response.status_code == status
    assert response.json()["detail"]


def test_the_page_renders_charts_and_explains_bad_dates(
    client: TestClient, clock: FakeClock
) -> None:
    morning(client, clock)
    admin = make_token(client, "admin")
    page = client.get("/stats", params={"start": DAY, "end": DAY, "site": "nerima"}, headers=admin)
    assert page.status_code == 200
    assert page.text.count('role="img"') == 4 and "<title" in page.text
    assert "/api/v1/stats.csv?start=2026-12-01&amp;end=2026-12-01&amp;site=nerima" in page.text
    bad = client.get("/stats", params={"start": "2026-13-01"}, headers=admin)
    assert bad.status_code == 400 and "2026-13-01" in bad.text
    assert client.get("/stats", follow_redirects=False).status_code == 303
    assert client.get("/stats", headers=make_token(client, "staff", "nerima")).status_code == 403


@pytest.mark.parametrize(
    ("peak", "axis"), [(238, (100, 3)), (57, (20, 3)), (9, (2.5, 4)), (0, (1.0, 1))]
)
def test_chart_axes_are_round(peak: float, axis: tuple[float, int]) -> None:
    assert charts.axis(peak) == axis


def test_charts_are_named_described_and_escaped() -> None:
    svg = charts.bar_chart(
        "来庁者数", "最大は9時：5", ["<9時>", "10時"], [5, None], marks=[7, None]
    )
    assert svg.startswith('<svg class="chart" role="img"')
    assert "<title id=" in svg and "<desc id=" in svg and "aria-labelledby=" in svg
    assert "&lt;9時&gt;" in svg and "<9時>" not in svg
    assert svg.count("<rect") == 1  # no bar for a missing value
    wide = charts.hbar_chart(
        "待ち時間", "d", ["住民異動（転入・転出・転居）" * 3], [12.5], unit="分"
    )
    assert "…" in wide and "12.5分" in wide
