"""The open-data feed: shape, no personal data, history, licence, caching, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from fastapi.testclient import TestClient

from display_server.api.opendata import COLUMNS
from tests.conftest import JST, FakeClock
from tests.helpers import counter_action, issue, make_token, runtime_of

JSON_URL = "/api/v1/opendata/congestion.json"
CSV_URL = "/api/v1/opendata/congestion.csv"


def busy_hour(client: TestClient, clock: FakeClock) -> list[dict[str, object]]:
    """Two moving-in tickets at 09:00 and 09:10; the first called at 09:20 (waits 20)."""
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    clock.set(dt.datetime(2026, 12, 1, 9, 0, tzinfo=JST))
    tickets = [issue(client, kiosk)]
    clock.set(dt.datetime(2026, 12, 1, 9, 10, tzinfo=JST))
    tickets.append(issue(client, kiosk))
    clock.set(dt.datetime(2026, 12, 1, 9, 20, tzinfo=JST))
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    clock.set(dt.datetime(2026, 12, 1, 9, 30, 15, tzinfo=JST))
    return tickets


def test_live_and_hourly_records(client: TestClient, clock: FakeClock) -> None:
    busy_hour(client, clock)
    response = client.get(JSON_URL)
    assert response.status_code == 200
    rows = response.json()
    assert all(list(row) == list(COLUMNS) for row in rows)
    live = [r for r in rows if r["record"] == "live"]
    assert len(live) == sum(len(s.services) for s in runtime_of(client).config.sites)
    moving = next(r for r in live if (r["site"], r["service"]) == ("nerima", "moving"))
    assert (moving["waiting"], moving["site_name_ja"], moving["hour_start"]) == (
        1,
        "練馬区民事務所",
        None,
    )
    assert moving["est_wait_min"] is not None
    hourly = [r for r in rows if r["record"] == "hourly"]
    assert [
        (r["site"], r["service"], r["hour_start"], r["arrivals"], r["mean_wait_min"])
        for r in hourly
    ] == [("nerima", "moving", "2026-12-01T09:00:00+09:00", 2, 20.0)]
    assert {r["license"] for r in rows} == {"CC BY 4.0"}
    assert {r["updated_at"] for r in rows} == {"2026-12-01T09:30:00+09:00"}


def test_no_personal_data(client: TestClient, clock: FakeClock) -> None:
    tickets = busy_hour(client, clock)
    body = client.get(JSON_URL).text + client.get(CSV_URL).text
    for ticket in tickets:
        assert str(ticket["token"]) not in body
        assert str(ticket["display_number"]) not in body
    assert not {"token", "id", "ticket_id", "display_number", "staff"} & set(COLUMNS)


def test_csv_has_the_same_records(client: TestClient, clock: FakeClock) -> None:
    busy_hour(client, clock)
    response = client.get(CSV_URL)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    as_json = client.get(JSON_URL).json()
    assert len(rows) == len(as_json)
    assert rows[-1]["mean_wait_min"] == "20.0" and rows[-1]["arrivals"] == "2"


def test_history_window_and_site_filter(client: TestClient, clock: FakeClock) -> None:
    busy_hour(client, clock)
    clock.set(dt.datetime(2026, 12, 3, 9, 0, tzinfo=JST))

    def hourly(**params: str | int) -> list[dict[str, object]]:
        rows = client.get(JSON_URL, params=params).json()
        return [r for r in rows if r["record"] == "hourly"]

    assert len(hourly()) == 1
    assert hourly(days=2) == []  # today and yesterday only
    only = client.get(JSON_URL, params={"site": "oizumi"}).json()
    assert {r["site"] for r in only} == {"oizumi"}


def test_etag_and_cache_control(client: TestClient, clock: FakeClock) -> None:
    busy_hour(client, clock)
    first = client.get(JSON_URL)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert "creativecommons.org/licenses/by/4.0" in first.headers["link"]
    cached = client.get(JSON_URL, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert client.get(JSON_URL, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    issue(client, make_token(client, "kiosk", "nerima"))  # the data changed
    changed = client.get(JSON_URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    csv_tag = client.get(CSV_URL).headers["etag"]
    assert client.get(CSV_URL, headers={"If-None-Match": csv_tag}).status_code == 304


def test_needs_no_login_and_ignores_cookies(client: TestClient) -> None:
    client.cookies.set("madoguchi_session", "forged")
    assert client.get(JSON_URL).status_code == 200
    assert json.loads(client.get(JSON_URL).content)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"days": 0}, 422),
        ({"days": 32}, 422),
        ({"days": "many"}, 422),
        ({"site": "atlantis"}, 404),
        ({"site": "x" * 41}, 422),
    ],
)
def test_bad_input(client: TestClient, params: dict[str, str | int], status: int) -> None:
    for url in (JSON_URL, CSV_URL):
        response = client.get(url, params=params)
        assert response.status_code == status
        assert response.json()["detail"]
