"""Issuing tickets through the API: channels, idempotency, refusals, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.conftest import JST, FakeClock
from tests.helpers import issue, make_token


def ticket_count(client: TestClient) -> int:
    status = client.get("/api/v1/sites/nerima/status").json()
    return sum(s["waiting"] for s in status["services"])


def test_issue_returns_the_contract_fields(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    body = issue(client, kiosk, service="certificates", lang="en")
    assert set(body) >= {
        "id",
        "token",
        "number",
        "display_number",
        "service",
        "site",
        "issued_at",
        "ahead",
        "est_wait_min",
        "est_wait_max",
        "status_url",
    }
    assert body["display_number"] == "B001" and body["site"] == "nerima"
    assert body["status_url"].endswith(f"/t/{body['token']}")
    assert len(body["token"]) >= 22  # 24 random bytes, base64url: ≥ 128 bits
    assert body["channel"] == "kiosk"


def test_times_carry_the_office_s_offset(client: TestClient, clock: FakeClock) -> None:
    # A kiosk prints and shows the office's wall clock from them without knowing its zone.
    clock.set(clock.now().astimezone(dt.UTC))  # as the server's real clock says it
    kiosk = make_token(client, "kiosk", "nerima")
    body = issue(client, kiosk, service="certificates")
    issued = dt.datetime.fromisoformat(body["issued_at"])
    assert issued == clock.now() and body["issued_at"].endswith("+09:00")
    status = client.get("/api/v1/sites/nerima/status").json()
    assert status["timezone"] == "Asia/Tokyo" and status["at"].endswith("+09:00")


def test_same_idempotency_key_returns_the_same_ticket(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    headers = {**kiosk, "Idempotency-Key": "kiosk-1-0001"}
    first = client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=headers)
    again = client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/api/v1/sites/nerima/tickets", json={"service": "tax"}, headers=headers)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert ticket_count(client) == 1


def test_a_retry_after_the_cutoff_or_at_the_cap_still_gets_its_ticket(
    client: TestClient, clock: FakeClock
) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    headers = {**kiosk, "Idempotency-Key": "kiosk-1-0002"}
    first = client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=headers)
    assert first.status_code == 201
    clock.set(dt.datetime(2026, 12, 1, 16, 50, tzinfo=JST))  # reception has ended
    again = client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    fresh = client.post(
        "/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=kiosk
    )
    assert fresh.status_code == 409 and fresh.json()["reason"] == "after_cutoff"
    assert ticket_count(client) == 1


def test_kiosk_token_works_only_at_its_site(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    response = client.post(
        "/api/v1/sites/shakujii/tickets", json={"service": "moving"}, headers=kiosk
    )
    assert response.status_code == 403
    assert client.get("/api/v1/sites/shakujii/status").json()["services"][0]["waiting"] == 0


def test_remote_tickets_where_the_service_allows(client: TestClient) -> None:
    response = client.post("/api/v1/sites/nerima/tickets", json={"service": "seal"})
    assert response.status_code == 409 and "remote" in response.json()["detail"]
    first = client.post("/api/v1/sites/nerima/tickets", json={"service": "moving"})
    assert first.status_code == 201 and first.json()["channel"] == "remote"
    second = client.post("/api/v1/sites/nerima/tickets", json={"service": "tax"})
    assert second.status_code == 429
    priority = client.post(
        "/api/v1/sites/nerima/tickets", json={"service": "tax", "priority": True}
    )
    assert priority.status_code == 409
    client.delete(f"/api/v1/tickets/{first.json()['token']}")
    assert client.post("/api/v1/sites/nerima/tickets", json={"service": "tax"}).status_code == 201


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (dt.datetime(2026, 12, 1, 16, 50, tzinfo=JST), "after_cutoff"),
        (dt.datetime(2026, 12, 5, 10, 0, tzinfo=JST), "closed"),
        (dt.datetime(2027, 1, 2, 10, 0, tzinfo=JST), "closed"),
    ],
)
def test_refusals_say_why_and_when_it_opens(
    client: TestClient, clock: FakeClock, when: dt.datetime, reason: str
) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    clock.set(when)
    response = client.post(
        "/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=kiosk
    )
    assert response.status_code == 409
    assert response.json()["reason"] == reason
    assert dt.datetime.fromisoformat(response.json()["next_opening"]) > when
    assert ticket_count(client) == 0


def test_daily_cap_and_numbering_restart_next_day(client: TestClient, clock: FakeClock) -> None:
    staff = make_token(client, "staff", "nursery")
    numbers = [issue(client, staff, "nursery", "nursery-consult")["number"] for _ in range(60)]
    assert numbers == list(range(1, 61))
    refused = client.post(
        "/api/v1/sites/nursery/tickets", json={"service": "nursery-consult"}, headers=staff
    )
    assert refused.status_code == 409 and refused.json()["reason"] == "daily_cap"
    clock.advance(days=1)
    assert issue(client, staff, "nursery", "nursery-consult")["display_number"] == "H001"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/sites/nowhere/tickets", {"service": "moving"}, 404),
        ("/api/v1/sites/nerima/tickets", {"service": "nope"}, 404),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "route": ["moving", "nope"]}, 404),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "route": ["tax"]}, 409),
        ("/api/v1/sites/nerima/tickets", {}, 422),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "surprise": 1}, 422),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "priority": "very"}, 422),
        ("/api/v1/sites/nerima/tickets", {"service": "x" * 500}, 422),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "lang": "<script>"}, 422),
        ("/api/v1/sites/nerima/tickets", {"service": "moving", "channel": "fax"}, 422),
        ("/api/v1/sites/nerima/tickets", [1, 2], 422),
    ],
)
def test_bad_requests_are_4xx_and_change_nothing(
    client: TestClient, path: str, body: object, status: int
) -> None:
    staff = make_token(client, "staff", "nerima")
    response = client.post(path, json=body, headers=staff)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert ticket_count(client) == 0


def test_malformed_json_and_bad_headers(client: TestClient) -> None:
    staff = make_token(client, "staff", "nerima")
    response = client.post(
        "/api/v1/sites/nerima/tickets",
        content=b"{not json",
        headers={**staff, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    long_key = {**staff, "Idempotency-Key": "k" * 300}
    assert (
        client.post(
            "/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=long_key
        ).status_code
        == 422
    )
    assert ticket_count(client) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Cookie": "madoguchi_session=forged"},
    ],
)
def test_wrong_credentials_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/sites/nerima/tickets", json={"service": "moving"}, headers=headers
    )
    assert response.status_code == 401
    assert ticket_count(client) == 0


def test_unknown_ticket_token(client: TestClient) -> None:
    assert client.get("/api/v1/tickets/unknown").status_code == 404
    assert client.get("/api/v1/tickets/" + "x" * 500).status_code == 404
    assert client.delete("/api/v1/tickets/unknown").status_code == 404


def test_visitor_cancels_once(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    ticket = issue(client, kiosk)
    response = client.delete(f"/api/v1/tickets/{ticket['token']}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/tickets/{ticket['token']}").status_code == 409
    assert ticket_count(client) == 0


def test_crowding_level_follows_the_expected_wait(client: TestClient) -> None:
    staff = make_token(client, "staff", "nerima")
    client.post("/api/v1/counters/nerima-4/open", headers=staff)  # mynumber only
    services = {s["id"]: s for s in client.get("/api/v1/sites/nerima/status").json()["services"]}
    empty = services["mynumber"]
    assert empty["waiting"] == 0 and empty["level"] == "quiet"
    for _ in range(12):
        issue(client, staff, service="mynumber")
    services = {s["id"]: s for s in client.get("/api/v1/sites/nerima/status").json()["services"]}
    assert services["mynumber"]["level"] in ("busy", "very_busy")
    assert services["moving"]["level"] == "closed"  # no counter serving it is open
