"""Signing in, session cookies, CSRF on cookie-authenticated writes, and the console page."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from display_server.security import SESSION_COOKIE
from display_server.store import auth as auth_store
from tests.helpers import issue, make_token, make_user, runtime_of

PASSWORD = "correct horse battery"


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    response = client.post(
        "/login",
        data={
            "name": name,
            "password": password,
            "csrf_token": csrf.group(1),
            "next": "/counter/nerima-1",
        },
        follow_redirects=False,
    )
    return response.status_code


def page_csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_sign_in_and_use_the_console(client: TestClient) -> None:
    make_user(client, "tanaka", "staff", PASSWORD, site="nerima")
    assert sign_in(client, "tanaka") == 303
    page = client.get("/counter/nerima-1")
    assert page.status_code == 200 and "次の方を呼ぶ" in page.text
    csrf = page_csrf(client, "/counter/nerima-1")
    opened = client.post(
        "/counter/nerima-1", data={"action": "open", "csrf_token": csrf}, follow_redirects=False
    )
    assert opened.status_code == 303
    assert client.get("/api/v1/counters/nerima-1").json()["state"] == "open"
    english = client.get("/counter/nerima-1?lang=en")
    assert "Call next" in english.text and '<html lang="en" ' in english.text


def test_wrong_password_and_missing_login_csrf(client: TestClient) -> None:
    make_user(client, "tanaka", "staff", PASSWORD, site="nerima")
    assert sign_in(client, "tanaka", "wrong password") == 401
    assert sign_in(client, "nobody") == 401
    response = client.post(
        "/login", data={"name": "tanaka", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_cookie_writes_need_the_csrf_token(client: TestClient) -> None:
    make_user(client, "tanaka", "staff", PASSWORD, site="nerima")
    sign_in(client, "tanaka")
    assert client.post("/api/v1/counters/nerima-1/open").status_code == 403
    forged = client.post("/counter/nerima-1", data={"action": "open", "csrf_token": "x"})
    assert forged.status_code == 403
    assert client.get("/api/v1/counters/nerima-1").json()["state"] == "closed"
    csrf = page_csrf(client, "/counter/nerima-1")
    response = client.post("/api/v1/counters/nerima-1/open", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200


def test_staff_of_another_site_cannot_open_the_console(client: TestClient) -> None:
    make_user(client, "suzuki", "staff", PASSWORD, site="shakujii")
    sign_in(client, "suzuki")
    assert client.get("/counter/nerima-1").status_code == 403
    assert client.get("/counter/shakujii-1").status_code == 200


def test_console_without_login_redirects(client: TestClient) -> None:
    response = client.get("/counter/nerima-1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/counter/nerima-1"


def test_expired_session_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(client, "tanaka", "staff", PASSWORD, site="nerima")
    runtime = runtime_of(client)
    with runtime.sessions() as session:
        user = auth_store.user_by_name(session, name="tanaka")
        assert user is not None
        user_id = user.id
    long_ago = time.time() - runtime.signer.max_age_s - 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: long_ago)
    stale = runtime.signer.dump(user_id)
    monkeypatch.undo()
    client.cookies.set(SESSION_COOKIE, stale)
    response = client.get("/api/v1/counters/nerima-1")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_console_form_reports_refusals_in_the_page(client: TestClient) -> None:
    make_user(client, "tanaka", "staff", PASSWORD, site="nerima")
    sign_in(client, "tanaka")
    csrf = page_csrf(client, "/counter/nerima-1")
    client.post("/counter/nerima-1", data={"action": "open", "csrf_token": csrf})
    response = client.post("/counter/nerima-1", data={"action": "call-next", "csrf_token": csrf})
    assert response.status_code == 409 and "お待ちの方はいません" in response.text
    kiosk = make_token(client, "kiosk", "nerima")
    ticket = issue(client, kiosk)
    client.post("/counter/nerima-1", data={"action": "call-next", "csrf_token": csrf})
    assert ticket["display_number"] in client.get("/counter/nerima-1").text


def test_pages_explain_refusals_in_html(client: TestClient) -> None:
    make_user(client, "suzuki", "staff", PASSWORD, site="shakujii")
    sign_in(client, "suzuki")
    page = client.get("/counter/nerima-1", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "権限がありません" in page.text
    missing = client.get("/counter/nowhere-9?lang=en", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "Page not found" in missing.text
    api = client.get("/api/v1/counters/nerima-1", headers={"Accept": "text/html"})
    assert api.status_code == 403 and api.json()["detail"]
