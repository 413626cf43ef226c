"""The floor view: who may open it, what it shows and alerts, and its actions (both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from display_server.app import create_app
from display_server.store.models import DeviceStatusRow, EventRow, TicketRow
from tests.conftest import FakeClock, make_settings
from tests.display_server.web.logins import csrf_of, sign_in
from tests.helpers import counter_action, issue, make_token, runtime_of


def _events(client: TestClient, kind: str) -> list[EventRow]:
    with runtime_of(client).sessions() as session:
        return list(session.scalars(select(EventRow).where(EventRow.type == kind)))


def _ticket(client: TestClient, ticket_id: int) -> TicketRow:
    with runtime_of(client).sessions() as session:
        row = session.get(TicketRow, ticket_id)
        assert row is not None
        return row


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/floor/nerima", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/floor/nerima"


@pytest.mark.parametrize(
    ("role", "site", "status"),
    [
        ("floor", "nerima", 200),
        ("admin", None, 200),
        ("floor", "oizumi", 403),
        ("staff", "nerima", 403),
        ("staff", "oizumi", 403),
        ("kiosk", "nerima", 403),
    ],
)
def test_who_may_open_the_floor_view(
    client: TestClient, role: str, site: str | None, status: int
) -> None:
    headers = make_token(client, role, site)
    assert client.get("/floor/nerima", headers=headers).status_code == status
    assert client.get("/api/v1/sites/nerima/floor", headers=headers).status_code == status
    assert client.get("/floor/nerima/board", headers=headers).status_code == status


def test_unknown_site_is_404(client: TestClient) -> None:
    admin = make_token(client, "admin")
    assert client.get("/floor/atlantis", headers=admin).status_code == 404
    assert client.get("/api/v1/sites/atlantis/floor", headers=admin).status_code == 404


def test_counters_show_who_serves_what_and_for_how_long(
    client: TestClient, clock: FakeClock
) -> None:
    kiosk, floor = make_token(client, "kiosk", "nerima"), make_token(client, "floor", "nerima")
    sign_in(client, "yamada", "floor", "nerima")  # floor managers may work a counter too
    csrf = {"X-CSRF-Token": csrf_of(client.get("/floor/nerima").text)}
    issue(client, kiosk)
    for action in ("open", "call-next", "start"):
        assert counter_action(client, csrf, "nerima-1", action).status_code == 200
    clock.advance(minutes=7)
    view = client.get("/api/v1/sites/nerima/floor", headers=floor).json()
    counter = next(c for c in view["counters"] if c["id"] == "nerima-1")
    assert counter["ticket"]["display_number"] == "A001"
    assert (counter["staff"], counter["for_min"], counter["state"]) == ("yamada", 7, "open")


def test_long_wait_and_unanswered_call_alerts(client: TestClient, clock: FakeClock) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    floor = make_token(client, "floor", "nerima")
    issue(client, kiosk)
    issue(client, kiosk)
    assert client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"] == []
    counter_action(client, staff, "nerima-1", "open")
    counter_action(client, staff, "nerima-1", "call-next")
    clock.advance(minutes=29)
    assert [
        a["kind"] for a in client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"]
    ] == ["unanswered"]
    clock.advance(minutes=1)  # A002 has now waited the default 30 minutes
    alerts = client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"]
    assert [a["kind"] for a in alerts] == ["long_wait", "unanswered"]
    assert "A002" in alerts[0]["text"] and "30" in alerts[0]["text"]
    assert "A001" in alerts[1]["text"]


def test_a_recall_alerts_at_once(client: TestClient) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    issue(client, kiosk)
    for action in ("open", "call-next", "recall"):
        counter_action(client, staff, "nerima-1", action)
    alerts = client.get(
        "/api/v1/sites/nerima/floor?lang=en", headers=make_token(client, "floor", "nerima")
    ).json()["alerts"]
    assert alerts[0]["text"] == "A001 has not come to Counter 1 (0 min, 1 recall)"


@pytest.fixture
def strict_client(sqlite_url: str, clock: FakeClock) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url, floor_wait_alert_min=5, floor_call_alert_min=1)
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def test_thresholds_come_from_the_settings(strict_client: TestClient, clock: FakeClock) -> None:
    issue(strict_client, make_token(strict_client, "kiosk", "nerima"))
    floor = make_token(strict_client, "floor", "nerima")
    clock.advance(minutes=4)
    assert strict_client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"] == []
    clock.advance(minutes=1)
    alerts = strict_client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"]
    assert [a["kind"] for a in alerts] == ["long_wait"]


def test_device_trouble_is_an_alert_and_ok_is_not(client: TestClient, clock: FakeClock) -> None:
    with runtime_of(client).sessions() as session:
        for device, state in (
            ("kiosk-1/printer", "paper_out"),
            ("kiosk-2/printer", "ok"),
            ("kiosk-3", "jammed"),
            ("oizumi-kiosk", "offline"),
        ):
            site = "oizumi" if device.startswith("oizumi") else "nerima"
            session.add(
                DeviceStatusRow(
                    device=device,
                    site=site,
                    kind="printer",
                    state=state,
                    detail="",
                    updated_at=clock.now(),
                )
            )
        session.commit()
    floor = make_token(client, "floor", "nerima")
    alerts = client.get("/api/v1/sites/nerima/floor", headers=floor).json()["alerts"]
    assert [a["kind"] for a in alerts] == ["device", "device"]
    assert "kiosk-1/printer：用紙切れ（10:00から）" in alerts[0]["text"]
    assert "異常（jammed）" in alerts[1]["text"]  # an unknown state still shows, verbatim


def test_actions_through_the_page_are_logged_with_who_did_them(
    client: TestClient, clock: FakeClock
) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    waiting, missed = issue(client, kiosk), issue(client, kiosk, service="certificates")
    counter_action(client, staff, "nerima-3", "open")
    for action in ("call-next", "recall", "recall", "no-show"):
        assert counter_action(client, staff, "nerima-3", action).status_code == 200
    sign_in(client, "sato", "floor", "nerima")
    page = client.get("/floor/nerima")
    assert "A001" in page.text and "B001" in page.text
    csrf = csrf_of(page.text)

    def act(**form: object) -> str:
        response = client.post(
            "/floor/nerima", data={"csrf_token": csrf, **form}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        return str(response.headers["location"])

    assert act(action="transfer", ticket_id=waiting["id"], service="nhi").endswith(
        "?done=transfer&number=A001"
    )
    assert _ticket(client, waiting["id"]).service == "nhi"
    act(action="prioritise", ticket_id=waiting["id"])
    assert _ticket(client, waiting["id"]).priority
    act(action="requeue", ticket_id=missed["id"])
    assert _ticket(client, missed["id"]).status == "waiting"
    act(action="cancel", ticket_id=missed["id"])
    assert _ticket(client, missed["id"]).status == "cancelled"
    location = act(
        action="issue", service="moving", next_service="nhi", priority="true", issue_key="k1"
    )
    again = act(
        action="issue", service="moving", next_service="nhi", priority="true", issue_key="k1"
    )  # a double tap
    assert location == again == "/floor/nerima?done=issue&number=A002"
    with runtime_of(client).sessions() as session:
        issued = session.scalars(select(TicketRow).where(TicketRow.display_number == "A002")).one()
    assert (issued.route, issued.priority, issued.channel, issued.issued_by) == (
        "moving nhi",
        True,
        "staff",
        "sato",
    )
    for kind in ("transferred", "prioritised", "requeued", "cancelled"):
        assert [e.staff for e in _events(client, kind)] == ["sato"], kind
    assert "A002を発券しました。" in client.get(location).text


def test_page_forms_need_the_csrf_token(client: TestClient) -> None:
    ticket = issue(client, make_token(client, "kiosk", "nerima"))
    sign_in(client, "sato", "floor", "nerima")
    response = client.post("/floor/nerima", data={"action": "cancel", "ticket_id": ticket["id"]})
    assert response.status_code == 403
    assert _ticket(client, ticket["id"]).status == "waiting"


def test_refused_actions_explain_why_and_change_nothing(client: TestClient) -> None:
    ticket = issue(client, make_token(client, "kiosk", "nerima"))
    other = issue(client, make_token(client, "kiosk", "oizumi"), site="oizumi")
    floor = make_token(client, "floor", "nerima")

    def post(**form: object) -> int:
        return client.post("/floor/nerima", data=form, headers=floor).status_code

    assert post(action="requeue", ticket_id=ticket["id"]) == 409  # it is not a no-show
    assert (
        "できませんでした"
        in client.post(
            "/floor/nerima", data={"action": "requeue", "ticket_id": ticket["id"]}, headers=floor
        ).text
    )
    assert post(action="cancel", ticket_id=other["id"]) == 404  # another site's ticket
    assert post(action="transfer", ticket_id=ticket["id"], service="nope") == 404
    assert post(action="explode", ticket_id=ticket["id"]) == 400
    assert post(action="cancel") == 400
    assert post(action="issue") == 400
    assert post(action="cancel", ticket_id=2**40) == 422
    assert post(action="issue", service="x" * 41) == 422
    assert _ticket(client, ticket["id"]).status == "waiting"
    assert _ticket(client, other["id"]).status == "waiting"


def test_floor_of_another_site_cannot_act_here(client: TestClient) -> None:
    ticket = issue(client, make_token(client, "kiosk", "nerima"))
    outsider = make_token(client, "floor", "oizumi")
    response = client.post(
        "/floor/nerima", data={"action": "cancel", "ticket_id": ticket["id"]}, headers=outsider
    )
    assert response.status_code == 403
    assert _ticket(client, ticket["id"]).status == "waiting"


def test_no_shows_older_than_the_rejoin_window_are_not_offered(
    client: TestClient, clock: FakeClock
) -> None:
    kiosk, staff = make_token(client, "kiosk", "nerima"), make_token(client, "staff", "nerima")
    issue(client, kiosk)
    for action in ("open", "call-next", "recall", "recall", "no-show"):
        counter_action(client, staff, "nerima-1", action)
    floor = make_token(client, "floor", "nerima")
    assert len(client.get("/api/v1/sites/nerima/floor", headers=floor).json()["no_shows"]) == 1
    clock.advance(minutes=61)
    assert client.get("/api/v1/sites/nerima/floor", headers=floor).json()["no_shows"] == []


def test_the_board_fragment_is_the_live_part_only(client: TestClient) -> None:
    issue(client, make_token(client, "kiosk", "nerima"))
    board = client.get("/floor/nerima/board", headers=make_token(client, "floor", "nerima"))
    assert 'data-number="A001"' in board.text
    assert "<html" not in board.text and "floor-issue" not in board.text


def test_board_says_no_wait_for_an_empty_queue(client: TestClient) -> None:
    counter_action(client, make_token(client, "staff", "nerima"), "nerima-1", "open")
    sign_in(client, "sato", "floor", "nerima")
    english = client.get("/floor/nerima/board?lang=en").text
    assert "<td>No wait</td>" in english and "0–0" not in english
    assert "<td>No counter is open</td>" in english
    assert "<td>待ち時間なし</td>" in client.get("/floor/nerima/board?lang=ja").text
