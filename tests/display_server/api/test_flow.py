"""The counter flow end to end through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import counter_action, issue, make_token


def test_issue_call_complete(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    staff = make_token(client, "staff", "nerima")
    first = issue(client, kiosk)
    second = issue(client, kiosk)
    assert (first["number"], second["number"]) == (1, 2)
    assert first["display_number"] == "A001"
    assert second["ahead"] == 1
    assert counter_action(client, staff, "nerima-1", "open").status_code == 200
    called = counter_action(client, staff, "nerima-1", "call-next")
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["display_number"] == "A001"
    assert client.get(f"/api/v1/tickets/{second['token']}").json()["ahead"] == 0
    assert counter_action(client, staff, "nerima-1", "complete").status_code == 200
    assert client.get(f"/api/v1/tickets/{first['token']}").json()["status"] == "done"
