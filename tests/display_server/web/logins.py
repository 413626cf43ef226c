"""Signing in through the real login form, for page tests that need a session and its CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.helpers import make_user

PASSWORD = "floor-password-123"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The first csrf_token field of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def sign_in(client: TestClient, name: str, role: str, site: str | None = None) -> None:
    """Create the user and sign in; the client then carries the session cookie."""
    make_user(client, name, role, PASSWORD, site)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
