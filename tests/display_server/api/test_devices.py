"""The device status API: kiosks report, staff and floor read; bad input changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from display_server.store.models import DeviceStatusRow, EventRow
from tests.helpers import make_token, runtime_of


def put(client: TestClient, headers: dict[str, str], device: str = "kiosk-1-printer",
        **body: Any) -> Any:
    payload = {"kind": "printer", "state": "ok", **body}
    return client.put(f"/api/v1/devices/{device}/status", json=payload, headers=headers)


def device_events(client: TestClient) -> list[dict[str, Any]]:
    with runtime_of(client).sessions() as session:
        rows = session.query(EventRow).filter(EventRow.type == "device_status").all()
        return [row.data for row in rows]


def stored(client: TestClient) -> list[tuple[str, str, str]]:
    with runtime_of(client).sessions() as session:
        return [(r.device, r.site, r.state) for r in session.query(DeviceStatusRow).all()]


def test_a_state_change_is_stored_logged_once_and_listed(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    assert put(client, kiosk).json()["changed"] is True
    assert put(client, kiosk).json()["changed"] is False
    answer = put(client, kiosk, state="paper_out", detail="out of paper")
    assert answer.status_code == 200 and answer.json()["changed"] is True
    assert [e["state"] for e in device_events(client)] == ["ok", "paper_out"]
    assert device_events(client)[-1]["previous"] == "ok"

    staff = make_token(client, "staff", "nerima")
    listed = client.get("/api/v1/sites/nerima/devices", headers=staff)
    assert listed.status_code == 200
    [device] = listed.json()["devices"]
    assert (device["device"], device["state"], device["detail"]) == (
        "kiosk-1-printer", "paper_out", "out of paper"
    )


def test_the_floor_view_shows_the_problem(client: TestClient) -> None:
    put(client, make_token(client, "kiosk", "nerima"), state="cover_open")
    floor = client.get("/api/v1/sites/nerima/floor", headers=make_token(client, "floor", "nerima"))
    assert floor.status_code == 200
    assert "kiosk-1-printer" in floor.text


def test_who_may_report_and_read(client: TestClient) -> None:
    assert put(client, {}).status_code == 401
    other = make_token(client, "kiosk", "shakujii")
    assert put(client, other, site="nerima").status_code == 403
    assert put(client, make_token(client, "staff", "nerima")).status_code == 403
    assert client.get("/api/v1/sites/nerima/devices").status_code == 401
    assert client.get("/api/v1/sites/nerima/devices", headers=other).status_code == 403
    assert client.get("/api/v1/sites/nerima/devices",
                      headers=make_token(client, "floor", "shakujii")).status_code == 403
    assert stored(client) == []


def test_a_device_cannot_be_taken_over_by_another_site(client: TestClient) -> None:
    put(client, make_token(client, "kiosk", "nerima"), device="kiosk-9")
    answer = put(client, make_token(client, "kiosk", "shakujii"), device="kiosk-9",
                 state="error")
    assert answer.status_code == 403
    assert stored(client) == [("kiosk-9", "nerima", "ok")]


def test_bad_input_is_refused_and_changes_nothing(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    assert put(client, kiosk, state="on_fire").status_code == 422
    assert put(client, kiosk, kind="toaster").status_code == 422
    assert put(client, kiosk, detail="x" * 501).status_code == 422
    assert put(client, kiosk, colour="red").status_code == 422
    assert put(client, kiosk, device="bad device!").status_code == 422
    assert put(client, kiosk, site="atlantis").status_code == 404
    assert stored(client) == [] and device_events(client) == []
